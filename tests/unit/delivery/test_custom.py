"""``custom:NAME`` channels: from entry points and from the config, loaded on first use."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from symbiont.delivery import DeliverySettings, build_router
from symbiont.delivery.custom import ENTRY_POINT_GROUP, custom_channels, load_object
from tests.unit.delivery.helpers import make_job, make_run, settings
from tests.unit.delivery.plugins import PagerChannel

pytestmark = pytest.mark.anyio
PLUGINS = "tests.unit.delivery.plugins"


@pytest.fixture(autouse=True)
def _forget_pages() -> Iterator[None]:
    """Each test starts with an empty pager."""
    PagerChannel.delivered.clear()
    yield
    PagerChannel.delivered.clear()


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution that registers ``pager`` in the ``symbiont.delivery`` group."""
    dist = tmp_path / "symbi_test_pager-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: symbi-test-pager\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        f"[{ENTRY_POINT_GROUP}]\npager = {PLUGINS}:PagerChannel\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))


@pytest.mark.usefixtures("installed_plugin")
async def test_an_entry_point_channel_is_found_and_used() -> None:
    """A class registered under the entry-point group receives ``custom:NAME`` deliveries."""
    built = settings(environ={"K": "v"})
    router = build_router(built)
    result = await router.route("custom:pager", make_job(), make_run(), "page me")
    assert (result.status, result.attempts) == ("delivered", 1)
    [(run_id, output, given)] = PagerChannel.delivered
    assert (run_id, output, given) == ("run-7f3a", "page me", built)


async def test_a_config_channel_is_imported_from_its_reference() -> None:
    """``custom_channels = {NAME = "pkg.module:Class"}`` registers ``custom:NAME``."""
    router = build_router(settings(custom_channels={"ops": f"{PLUGINS}:PagerChannel"}))
    job = make_job(delivery=("custom:ops",))
    results = await router.deliver_all(job, make_run(), "out")
    assert [(r.channel, r.status) for r in results] == [("custom:ops", "delivered")]
    assert len(PagerChannel.delivered) == 1


def test_the_config_wins_over_an_entry_point_of_the_same_name() -> None:
    """When both name ``pager``, the config's class is the one used."""
    point = EntryPoint(name="pager", value=f"{PLUGINS}:FlakyPager", group=ENTRY_POINT_GROUP)
    channels = custom_channels(
        settings(custom_channels={"pager": f"{PLUGINS}:PagerChannel"}), {"pager": point}
    )
    assert channels["custom:pager"].target == f"{PLUGINS}:PagerChannel"


def test_classes_are_not_imported_before_use() -> None:
    """Registering a missing module does not fail: only its deliveries will."""
    channels = custom_channels(settings(custom_channels={"x": "no_such_module_abc:X"}), {})
    assert list(channels) == ["custom:x"]
    assert "no_such_module_abc" not in sys.modules


async def test_a_channel_own_retry_count_is_honoured() -> None:
    """A plug-in's ``retry_attempts`` is used: one retry, so two attempts."""
    router = build_router(settings(custom_channels={"flaky": f"{PLUGINS}:FlakyPager"}))
    result = await router.route("custom:flaky", make_job(), make_run(), "out")
    assert (result.status, result.attempts, result.error) == (
        "failed",
        2,
        "pager service unavailable",
    )


@pytest.mark.parametrize(
    ("reference", "problem"),
    [
        ("no_such_module_abc:Pager", "cannot import it: ModuleNotFoundError: No module named"),
        (f"{PLUGINS}:Missing", "cannot import it: AttributeError:"),
        ("just-a-name", "cannot import it: ValueError: 'just-a-name' is not of the form"),
        (f"{PLUGINS}:BrokenPager", "building it failed: RuntimeError: no PAGER_KEY"),
        (f"{PLUGINS}:NotAChannel", "it has no 'async def deliver(self, job, run, output)'"),
        (f"{PLUGINS}:PLUGINS_CONSTANT", "cannot import it: AttributeError"),
    ],
)
async def test_a_broken_plugin_fails_its_deliveries_with_the_reason(
    reference: str, problem: str
) -> None:
    """An unusable class is a failed, unretried delivery saying where it came from and why."""
    router = build_router(settings(custom_channels={"pager": reference}))
    result = await router.route("custom:pager", make_job(), make_run(), "out")
    assert (result.status, result.attempts) == ("failed", 1)
    assert result.error is not None
    assert result.error.startswith(
        f"custom channel from {reference!r} ([scheduler.delivery.custom_channels]): {problem}"
    )


def test_load_object_follows_dotted_attributes() -> None:
    """``module:Class.attr`` resolves nested attributes."""
    assert load_object(f"{PLUGINS}:PagerChannel.name") == "custom:pager"


def test_the_settings_type_is_what_plugins_receive() -> None:
    """Plug-ins are built with the `DeliverySettings` the router was built with."""
    built = settings()
    channel = custom_channels(built, {"p": EntryPoint("p", f"{PLUGINS}:PagerChannel", "g")})
    loaded = channel["custom:p"].load()
    assert isinstance(loaded, PagerChannel)
    assert loaded.settings is built
    assert isinstance(built, DeliverySettings)
