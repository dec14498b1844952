# On Colab only: install the companion package, keeping Colab's own jax and jaxlib.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("google.colab") is not None:
    from importlib.metadata import version

    with open("keep-jax.txt", "w") as f:
        f.write("\n".join(f"{p}=={version(p)}" for p in ("jax", "jaxlib")))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-c", "keep-jax.txt",
                    "cnn-companion @ git+https://github.com/cnn-course/cnn-companion"], check=True)
