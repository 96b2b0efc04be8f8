"""Open, save, save as and quit: the app's file workflows.

:class:`FileWorkflows` is a mixin of :class:`~qdebug_tui.app.QDebugApp`. Each workflow is
an async worker in the group ``file-workflow``, because it waits for dialogs with
``push_screen_wait``. One workflow runs at a time. The writer replaces the scenario file
atomically, so a failed save shows the error and leaves the old file as it was.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from textual import work
from textual.worker import Worker, WorkerState

from qdebug_tui.core.scenario import Scenario
from qdebug_tui.io.scenario_writer import save_scenario
from qdebug_tui.screens.confirm import DISCARD, SAVE, UnsavedChangesDialog
from qdebug_tui.screens.main import MainScreen
from qdebug_tui.screens.message import ErrorDialog
from qdebug_tui.screens.open_dialog import OpenDialog
from qdebug_tui.screens.save_as import SaveAsDialog
from qdebug_tui.widgets.qparams_bar import QParamsBar

WORKFLOW_GROUP = "file-workflow"

logger = logging.getLogger(__name__)


class FileWorkflows:
    """The app's actions on scenario files.

    Uses the app's ``scenario_path``, ``scenario`` and ``bundled``. ``bundled`` is True while
    the scenario is the copy shipped with qdebug, which ctrl+s must not overwrite, so saving
    opens the save-as dialog first.
    """

    def main_screen(self) -> MainScreen | None:
        """Return the main screen on the stack, under any dialogs."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, MainScreen):
                return screen
        return None

    def workflow_running(self) -> bool:
        return any(
            worker.group == WORKFLOW_GROUP and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)
            for worker in self.workers
        )

    # Actions -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; with unsaved changes, ask first whether to save them."""
        main = self.main_screen()
        if main is None or not main.modified:
            self.exit()
            return
        if self.workflow_running():
            self.bell()
            self.notify("finish or cancel the dialog first (escape), then quit", severity="warning")
            return
        self._quit_workflow()

    def action_open(self) -> None:
        """Choose a scenario file and open it in place of the one shown."""
        if not self.workflow_running():
            self._open_workflow()

    def action_save(self) -> None:
        """Write the scenario to its file; for the bundled sample, open the save-as dialog instead."""
        if not self.workflow_running():
            self._save_workflow(ask_path=self.bundled)

    def action_save_as(self) -> None:
        """Write the scenario to a file chosen in a dialog, which then becomes its file."""
        if not self.workflow_running():
            self._save_workflow(ask_path=True)

    # Workflows -----------------------------------------------------------------------------

    @work(group=WORKFLOW_GROUP, exit_on_error=False)
    async def _quit_workflow(self) -> None:
        if await self._settle_unsaved_changes("quitting"):
            self.exit()

    @work(group=WORKFLOW_GROUP, exit_on_error=False)
    async def _open_workflow(self) -> None:
        opened = await self.push_screen_wait(OpenDialog(self.scenario_path.parent))
        if opened is None:
            return
        if not await self._settle_unsaved_changes(f"opening {opened.path.name}"):
            return
        await self.show_scenario(opened.scenario, opened.path)
        self.notify(f"Opened {opened.path}")

    @work(group=WORKFLOW_GROUP, exit_on_error=False)
    async def _save_workflow(self, ask_path: bool) -> None:
        await self.save_current(ask_path=ask_path)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """Show a workflow that failed with an unexpected error, and log its traceback; the app keeps running."""
        if event.worker.group != WORKFLOW_GROUP or event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        logger.error("the %s workflow failed", event.worker.name, exc_info=error)
        self.push_screen(ErrorDialog("The action failed", f"{type(error).__name__}: {error}\nThe scenario on screen is unchanged."))

    async def _settle_unsaved_changes(self, next_step: str) -> bool:
        """Ask save / discard / cancel when there are unsaved changes; return True to go on."""
        main = self.main_screen()
        if main is None or not main.modified:
            return True
        choice = await self.push_screen_wait(UnsavedChangesDialog(self.scenario_path.name, next_step))
        if choice == SAVE:
            return await self.save_current(ask_path=self.bundled)
        return choice == DISCARD

    # Steps ---------------------------------------------------------------------------------

    async def show_scenario(self, scenario: Scenario, path: Path) -> None:
        """Show ``scenario``, read from ``path``, on the main screen in place of the one open."""
        self.scenario = scenario
        self.scenario_path = path
        self.bundled = False
        main = self.main_screen()
        # A drill-down above the main screen traces the old scenario, so it closes first.
        while self.screen is not main:
            await self.pop_screen()
        await main.replace_scenario(scenario)

    async def save_current(self, *, ask_path: bool) -> bool:
        """Save the main screen's scenario; return True when the file was written.

        With ``ask_path`` the path comes from the save-as dialog and becomes the scenario's
        file. A failed write shows the error; the file on disk keeps its old content.
        """
        main = self.main_screen()
        if main is None:
            return False
        path = self.scenario_path
        if ask_path:
            folder = Path.cwd() if self.bundled else path.parent
            chosen = await self.push_screen_wait(SaveAsDialog(folder, folder / path.name, None if self.bundled else path))
            if chosen is None:
                return False
            path = chosen
        scenario = main.scenario
        try:
            notes = await asyncio.to_thread(save_scenario, scenario, path)
        except (OSError, ValueError) as error:
            logger.warning("saving %s failed: %s", path, error)
            reason = getattr(error, "strerror", None) or str(error)
            message = f"{path} was not saved: {reason}.\nThe scenario file on disk is as it was."
            await self.push_screen_wait(ErrorDialog("Saving failed", message))
            return False
        self.scenario_path = path
        self.bundled = False
        main.mark_saved(scenario)
        self.notify("\n".join([f"Saved {path}", *notes, *_unsaved_field_notes(main)]), timeout=8)
        return True


def _unsaved_field_notes(main: MainScreen) -> list[str]:
    """Name the fields whose typed value is invalid, because the file keeps their last valid value."""
    problems = main.query_one(QParamsBar).problems.values()
    return [f"{problem.path} is invalid and was not saved; the file keeps its last valid value" for problem in problems]
