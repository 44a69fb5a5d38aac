"""The cache of validated configurations: served only for exactly the same inputs, written atomically, and the
reason a command whose settings did not change never loads pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lingcode.config import cache_home, load_config, user_config_path
from lingcode.errors import ConfigError


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def cache_files() -> list[Path]:
    folder = cache_home() / "config"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_second_load_comes_from_the_cache_under_xdg_cache_home(tmp_path: Path) -> None:
    write(user_config_path(), "[model]\nconnect_timeout = 5\nmax_tokens = 99\n")
    first = load_config(root=tmp_path)
    files = cache_files()
    assert len(files) == 1
    assert files[0].is_relative_to(Path(os.environ["XDG_CACHE_HOME"]))
    assert not any(p.name.endswith(".partial") for p in files[0].parent.iterdir())  # renamed into place
    second = load_config(root=tmp_path)
    assert second == first
    assert (second.model.connect_timeout, second.model.max_tokens) == (5.0, 99)
    assert isinstance(second.model.connect_timeout, float) and isinstance(second.model.max_tokens, int)


def test_a_changed_source_is_never_served_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(user_config_path(), "[loop]\nmax_iterations = 2\n")
    assert load_config(root=tmp_path).loop.max_iterations == 2
    write(user_config_path(), "[loop]\nmax_iterations = 3\n")
    assert load_config(root=tmp_path).loop.max_iterations == 3
    write(tmp_path / ".lingcode/config.toml", "[loop]\nmax_iterations = 4\n")
    assert load_config(root=tmp_path).loop.max_iterations == 4
    monkeypatch.setenv("LINGCODE_LOOP_MAX_ITERATIONS", "5")
    assert load_config(root=tmp_path).loop.max_iterations == 5
    assert load_config(root=tmp_path, overrides=["loop.max_iterations=6"]).loop.max_iterations == 6
    assert load_config(root=tmp_path, flags={"loop.max_iterations": 7}).loop.max_iterations == 7
    monkeypatch.delenv("LINGCODE_LOOP_MAX_ITERATIONS")
    (tmp_path / ".lingcode/config.toml").unlink()
    assert load_config(root=tmp_path).loop.max_iterations == 3
    # another user config file (XDG_CONFIG_HOME moved) is another source
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "other-config"))
    assert load_config(root=tmp_path).loop.max_iterations == 5  # the default


def test_an_invalid_change_after_a_cached_load_is_still_an_error(tmp_path: Path) -> None:
    write(user_config_path(), "[model]\ntemperature = 1\n")
    load_config(root=tmp_path)
    write(user_config_path(), "[model]\ntemperature = 9\n")
    with pytest.raises(ConfigError, match=r"model\.temperature"):
        load_config(root=tmp_path)


def test_errors_come_in_the_same_order_as_the_sources_are_read(tmp_path: Path) -> None:
    write(user_config_path(), "[loop\n")
    (tmp_path / ".lingcode" / "config.toml").mkdir(parents=True)  # unreadable: a directory
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(root=tmp_path)
    write(user_config_path(), "")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config(root=tmp_path)


def test_withdrawn_trust_refuses_a_project_file_accepted_before(tmp_path: Path) -> None:
    write(user_config_path(), "[trust]\nallow_project_commands = true\n")
    write(tmp_path / ".lingcode/config.toml", '[loop]\ntest_cmd = "make check"\n')
    assert load_config(root=tmp_path).loop.test_cmd == "make check"
    write(user_config_path(), "")
    with pytest.raises(ConfigError, match="allow_project_commands"):
        load_config(root=tmp_path)


@pytest.mark.parametrize("content", ["not json", '{"key": "x", "settings": 3}', "[]"])
def test_an_unreadable_cache_file_is_a_miss(tmp_path: Path, content: str) -> None:
    write(user_config_path(), "[loop]\nmax_iterations = 2\n")
    load_config(root=tmp_path)
    (path,) = cache_files()
    path.write_text(content, encoding="utf-8")
    assert load_config(root=tmp_path).loop.max_iterations == 2
    assert json.loads(path.read_text(encoding="utf-8"))["settings"]["loop"]["max_iterations"] == 2


def test_cached_settings_that_no_longer_fit_the_sections_are_a_miss(tmp_path: Path) -> None:
    load_config(root=tmp_path)
    (path,) = cache_files()
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["settings"]["loop"]["retired_key"] = 1
    path.write_text(json.dumps(entry), encoding="utf-8")
    assert load_config(root=tmp_path).loop.max_iterations == 5


def test_an_unwritable_cache_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    write(user_config_path(), "[loop]\nmax_iterations = 2\n")
    assert load_config(root=tmp_path).loop.max_iterations == 2
    assert load_config(root=tmp_path).loop.max_iterations == 2


def test_a_cache_hit_does_not_load_pydantic(tmp_path: Path) -> None:
    write(user_config_path(), "[loop]\nmax_iterations = 2\n")
    program = (
        "import sys; from pathlib import Path; from lingcode.config import load_config; "
        f"c = load_config(root=Path({str(tmp_path)!r})); "
        "print(c.loop.max_iterations, 'pydantic' in sys.modules)"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", program], capture_output=True, text=True, check=True, env=os.environ.copy()
        ).stdout.split()
        for _ in range(2)
    ]
    assert outputs == [["2", "True"], ["2", "False"]]  # validated once, then served from the cache
