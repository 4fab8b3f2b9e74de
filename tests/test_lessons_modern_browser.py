"""The newer optimizers' lessons in the app, in a real browser: each opens from a hand-typed
``?lesson=NAME&stage=1`` link with its first stage's title, narration and instances
(screenshots ``artifacts/screenshots/lesson_<id>_stage1.png``)."""

from __future__ import annotations

import pytest

from app import lessons
from tests.browser import open_page, screenshot, streamlit_server
from tests.test_app_browser import (
    APP,
    HEIGHT,
    WIDTH,
    assert_no_exception,
    main_area,
    open_app,
    plotted,
    settle,
)

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


def test_lbfgs_inside_stage_opens_paused_at_the_search_it_describes(browser, app_url):
    """Stage 3 of the L-BFGS lesson opens the Inside tab at step 8, the search whose alpha_k and
    n_k its narration quotes (the screenshot shows the table's headers as αₖ, nₖ)."""
    lesson = lessons.LESSONS["lbfgs-adam"]
    ws = app_url.replace("http", "ws", 1)
    url = f"{app_url}?lesson=lbfgs-adam&stage=3"  # no animator on this tab: open_app waits for one
    page, log = open_page(browser, url, width=WIDTH, height=HEIGHT, allow=(app_url, ws))
    main = main_area(page)
    main.get_by_text(f"stage 3 of 3: {lesson.stages[2].title}").wait_for(timeout=90_000)
    main.get_by_text("Values after step 8 ").wait_for(timeout=60_000)
    settle(page)
    assert_no_exception(page)
    # L-BFGS's table (the second) in view
    main.locator("[data-testid='stDataFrame']").nth(1).scroll_into_view_if_needed()
    screenshot(page, "lesson_lbfgs-adam_stage3_inside", full_page=False)
    log.assert_clean()
    page.context.close()
