"""The newer optimizers' lessons in the app, in a real browser: each opens from a hand-typed
``?lesson=NAME&stage=1`` link with its first stage's title, narration and instances
(screenshots ``artifacts/screenshots/lesson_<id>_stage1.png``)."""

from __future__ import annotations

import pytest

from app import lessons
from tests.browser import screenshot, streamlit_server
from tests.test_app_browser import APP, assert_no_exception, main_area, open_app, plotted

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def app_url():
    with streamlit_server(APP, timeout=60) as url:
        yield url


@pytest.mark.parametrize("lesson_id", ["rprop-wame", "lion", "schedule-free", "lbfgs-adam"])
def test_first_stage_opens_from_a_typed_link(browser, app_url, lesson_id):
    lesson = lessons.LESSONS[lesson_id]
    stage = lesson.stages[0]
    page, log = open_app(browser, app_url, f"lesson={lesson_id}&stage=1")
    main = main_area(page)
    main.get_by_text(f"stage 1 of {len(lesson.stages)}: {stage.title}").wait_for()
    prose = max(stage.narration.split("$")[::2], key=len).strip()[:60]
    assert main.get_by_text(prose).is_visible(), prose
    assert [o["name"] for o in plotted(page)] == [o.name for o in stage.experiment.optimizers]
    assert_no_exception(page)
    screenshot(page, f"lesson_{lesson_id}_stage1", full_page=False)
    log.assert_clean()
    page.context.close()
