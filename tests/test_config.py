import pytest

from companion import config


@pytest.fixture
def clean_env(monkeypatch):
    monkeypatch.delenv("COMPANION_PROFILE", raising=False)
    monkeypatch.delenv("CI", raising=False)
    return monkeypatch


@pytest.mark.parametrize("name", config.PROFILES)
def test_profile_variable_names_the_profile(clean_env, name):
    clean_env.setenv("COMPANION_PROFILE", name)
    assert config.profile() == name


def test_profile_variable_overrides_ci(clean_env):
    clean_env.setenv("CI", "true")
    clean_env.setenv("COMPANION_PROFILE", "cpu")
    assert config.profile() == "cpu"


def test_profile_variable_is_case_and_space_insensitive(clean_env):
    clean_env.setenv("COMPANION_PROFILE", " GPU ")
    assert config.profile() == "gpu"


@pytest.mark.parametrize("value", ["true", "1", "yes"])
def test_ci_means_quick(clean_env, value):
    clean_env.setenv("CI", value)
    assert config.profile() == "quick"


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_ci_false_is_not_ci(clean_env, value):
    clean_env.setenv("CI", value)
    assert config.profile() in ("cpu", "gpu")


def test_backend_decides_without_variables(clean_env):
    import jax

    expected = "cpu" if jax.default_backend() == "cpu" else "gpu"
    assert config.profile() == expected


def test_gpu_backend_means_gpu(clean_env):
    import jax

    clean_env.setattr(jax, "default_backend", lambda: "gpu")
    assert config.profile() == "gpu"
    clean_env.setattr(jax, "default_backend", lambda: "tpu")
    assert config.profile() == "gpu"


def test_unknown_profile_is_a_clear_error(clean_env):
    clean_env.setenv("COMPANION_PROFILE", "fast")
    with pytest.raises(ValueError, match="COMPANION_PROFILE must be one of quick, cpu, gpu; got 'fast'"):
        config.profile()


@pytest.mark.parametrize("name, expected", [("quick", 1), ("cpu", 5), ("gpu", 30)])
def test_pick_returns_the_profiles_value(clean_env, name, expected):
    clean_env.setenv("COMPANION_PROFILE", name)
    assert config.pick(quick=1, cpu=5, gpu=30) == expected


def test_pick_requires_keywords():
    with pytest.raises(TypeError):
        config.pick(1, 5, 30)
