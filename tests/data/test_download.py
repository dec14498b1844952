import threading

import pytest
from data_fixtures import md5

from companion.data import download as download_module
from companion.data.download import download, md5sum
from companion.data.errors import DownloadError

PAYLOAD = bytes(range(256)) * 64


def _leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_download_verifies_and_renames_into_place(server, tmp_path):
    server.routes["/f.bin"] = PAYLOAD
    target = download([server.url("/f.bin")], tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False)
    assert target.read_bytes() == PAYLOAD
    assert md5sum(target) == md5(PAYLOAD)
    assert _leftovers(tmp_path) == []


def test_checksum_mismatch_discards_the_file_and_tries_the_next_mirror(server, tmp_path):
    server.routes["/bad/f.bin"] = b"tampered" + PAYLOAD
    server.routes["/good/f.bin"] = PAYLOAD
    urls = [server.url("/bad/f.bin"), server.url("/good/f.bin")]
    target = download(urls, tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False, backoff=0)
    assert target.read_bytes() == PAYLOAD
    assert server.requests == ["/bad/f.bin", "/good/f.bin"]  # no retry of a mismatching mirror
    assert _leftovers(tmp_path) == []


def test_when_every_mirror_fails_the_error_lists_what_was_tried(server, tmp_path):
    server.routes["/a/f.bin"] = b"tampered"
    urls = [server.url("/a/f.bin"), server.url("/missing/f.bin")]
    with pytest.raises(DownloadError) as error:
        download(urls, tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False, backoff=0)
    message = str(error.value)
    assert "from any of 2 mirror(s)" in message
    assert f"{urls[0]}: checksum mismatch" in message and "file discarded" in message
    assert f"{urls[1]}: HTTP 404" in message
    assert not (tmp_path / "f.bin").exists() and _leftovers(tmp_path) == []


def test_transfer_interrupted_halfway_is_retried_then_reported(server, tmp_path, monkeypatch):
    sleeps = []
    monkeypatch.setattr(download_module.time, "sleep", sleeps.append)
    server.routes["/f.bin"] = ("truncate", PAYLOAD)
    with pytest.raises(DownloadError, match=r"(?s)IncompleteRead|transfer interrupted") as error:
        download([server.url("/f.bin")], tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False,
                 retries=3, backoff=0.5)
    assert server.requests == ["/f.bin"] * 3
    assert sleeps == [0.5, 1.0]  # exponential backoff between attempts
    assert str(error.value).count(server.url("/f.bin")) == 3
    assert not (tmp_path / "f.bin").exists() and _leftovers(tmp_path) == []


def test_interrupted_mirror_falls_back_to_the_next(server, tmp_path):
    server.routes["/cut/f.bin"] = ("truncate", PAYLOAD)
    server.routes["/ok/f.bin"] = PAYLOAD
    urls = [server.url("/cut/f.bin"), server.url("/ok/f.bin")]
    target = download(urls, tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False, retries=1)
    assert target.read_bytes() == PAYLOAD


def test_a_verified_file_is_not_downloaded_again(server, tmp_path):
    (tmp_path / "f.bin").write_bytes(PAYLOAD)
    download([server.url("/f.bin")], tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False)
    assert server.requests == []


def test_a_corrupt_file_in_place_is_replaced(server, tmp_path):
    (tmp_path / "f.bin").write_bytes(b"half a file")
    server.routes["/f.bin"] = PAYLOAD
    download([server.url("/f.bin")], tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False)
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_concurrent_downloads_of_one_file_fetch_it_once(server, tmp_path):
    server.routes["/f.bin"] = PAYLOAD
    errors = []

    def fetch():
        try:
            download([server.url("/f.bin")], tmp_path / "f.bin", md5=md5(PAYLOAD), progress=False)
        except Exception as error:  # collected and re-raised in the main thread
            errors.append(error)

    threads = [threading.Thread(target=fetch) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert server.requests == ["/f.bin"]
    assert (tmp_path / "f.bin").read_bytes() == PAYLOAD


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="urls must name at least one mirror"):
        download([], tmp_path / "f", md5=None)
    with pytest.raises(ValueError, match="retries must be at least 1; got 0"):
        download(["http://127.0.0.1/x"], tmp_path / "f", md5=None, retries=0)


def test_tests_cannot_reach_the_network(tmp_path):
    with pytest.raises(AssertionError, match=r"tests may only use 127\.0\.0\.1"):
        download(["https://example.org/f.bin"], tmp_path / "f.bin", md5=None, progress=False)
