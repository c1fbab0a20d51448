"""File actions of the main window: new, open, save, recent files, examples, autosave and recovery."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, QStandardPaths
from PySide6.QtWidgets import QFileDialog, QMessageBox

from nodegraph.errors import WorkflowError
from nodegraph.graph import Graph
from nodegraph.workflow import atomic_write_text, dumps_workflow, load_workflow, loads_workflow, save_workflow

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "resources" / "workflows"
# What Kinograph saves carries its workflow: videos, PNGs and sound files open as the workflow that made them.
OPEN_FILTER = ("Workflows and what they made (*.json *.mp4 *.mkv *.mov *.webm *.avi *.png *.flac *.mp3 *.m4a *.ogg "
               "*.opus *.wav);;Workflows (*.json);;All files (*)")
MAX_RECENT = 10


def settings() -> QSettings:
    return QSettings("Kinograph", "Kinograph")


def recovery_dir() -> Path:
    folder = Path(QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or Path.home() / ".kinograph")
    return folder / "recovery"


def user_workflows_dir() -> Path:
    """The user's own folder of workflows, listed by File → Browse Workflows beside the shipped ones."""
    return recovery_dir().parent / "workflows"


def user_subgraphs_dir() -> Path:
    """My subgraphs: the user's own `.kgsub.json` files, offered in the palette and Tab search."""
    return recovery_dir().parent / "subgraphs"


def history_dir() -> Path:
    """Where finished runs are kept (beside the recovery folder)."""
    return recovery_dir().parent / "history"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def orphaned_recovery_files() -> list[Path]:
    """Autosaves left by editors that did not close cleanly (their process is gone)."""
    found = []
    for path in sorted(recovery_dir().glob("autosave-*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            pid = int(path.stem.split("-")[1])
        except (IndexError, ValueError):
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            found.append(path)
    return found


class FileActions:
    """Mixed into MainWindow: expects self.document (the workflow), self.stack, self.registry, self.set_graph()."""

    path: Path | None = None

    # -- prompts (tests replace these) ------------------------------------------------

    def ask_save_changes(self) -> QMessageBox.StandardButton:
        return QMessageBox.question(
            self, "Unsaved changes", f"Save the changes to {self.display_name()}?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)

    def ask_recover(self, path: Path) -> bool | str:
        """True to open the autosave, False to keep it for a later start, "discard" to delete it."""
        import time

        when = time.strftime("%d %b %H:%M", time.localtime(path.stat().st_mtime))
        answer = QMessageBox.question(
            self, "Recover work", f"Kinograph did not close properly. Open the workflow autosaved at {when}?\n\n"
            "No keeps it for the next start; Discard deletes it.",
            QMessageBox.Yes | QMessageBox.No | QMessageBox.Discard, QMessageBox.Yes)
        return "discard" if answer == QMessageBox.Discard else answer == QMessageBox.Yes

    def show_error(self, title: str, text: str) -> None:
        self.log.add("error", text)
        QMessageBox.warning(self, title, text)

    # -- titles -----------------------------------------------------------------------

    def display_name(self) -> str:
        if self.path:
            return self.path.name
        return f"Untitled (from {self.opened_from.name})" if self.opened_from else "Untitled"

    def update_title(self) -> None:
        self.setWindowTitle(f"{self.display_name()}[*] — Kinograph")
        self.setWindowModified(not self.stack.is_clean())
        self.refresh_tab_title()

    def maybe_save(self) -> bool:
        """True when it is fine to drop the current graph (saved, discarded, or unchanged)."""
        if self.stack.is_clean():
            return True
        answer = self.ask_save_changes()
        if answer == QMessageBox.Save:
            return self.save()
        return answer == QMessageBox.Discard

    # -- actions ----------------------------------------------------------------------

    def new_file(self) -> None:
        if self.maybe_save():
            self.path = self.opened_from = None
            self.set_graph(Graph("Untitled"))

    def open_dialog(self) -> None:
        """Ask about unsaved changes first, then which file: a person decides about their work before browsing."""
        if not self.maybe_save():
            return
        start = str(self.path.parent) if self.path else str(Path.cwd())
        path = self.ask_open_path(start)
        if path:
            self.open_file(path, ask=False)

    def ask_open_path(self, start: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Open workflow", start, OPEN_FILTER)
        return path

    def open_file(self, path, *, ask: bool = True) -> bool:
        """Open a workflow file, or the workflow embedded in a video Kinograph saved."""
        if ask and not self.maybe_save():
            return False
        try:
            graph = load_workflow(path, self.registry)
        except WorkflowError as exc:
            self.show_error("Cannot open", str(exc))
            return False
        path = Path(path).resolve()
        self.path = path if path.suffix.lower() == ".json" else None
        self.opened_from = None if self.path else path
        self.set_graph(graph)
        if self.path is None:
            self.log.add("info", f"Opened the workflow embedded in {path.name}")
            credentials = self.registry.services.describe_credentials
            note = credentials(path) if credentials is not None else None
            if note:
                self.log.add("info" if "CHANGED" not in note else "warning", f"{path.name}: {note}")
        for issue in graph.load_issues:  # they also refuse every run until the graph is saved anew
            self.log.add("error", f"{path.name}: {issue}", issue.node_id)
        self.add_recent(path)
        self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def open_example(self, path: Path) -> bool:
        """Open a shipped example as an untitled copy: Save asks where, so the example itself never changes.
        Its relative paths still resolve against the examples folder, and Save As rewrites them."""
        if not self.open_file(path):
            return False
        self.path, self.opened_from = None, Path(path).resolve()
        self.update_title()
        return True

    def save(self) -> bool:
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path)

    def save_as(self) -> bool:
        stem = self.opened_from.stem if self.opened_from else (self.document.name or "workflow")
        start = str(self.path or Path.cwd() / f"{stem}.json")
        path, _ = QFileDialog.getSaveFileName(self, "Save workflow", start, "Workflows (*.json)")
        if not path:
            return False
        if not path.endswith(".json"):
            path += ".json"
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        previous_name = self.document.name
        if self.document.name in ("", "Untitled"):  # the file's name names an unnamed workflow
            self.document.name = Path(path).stem
        try:
            save_workflow(self.document, path, self.registry)
        except OSError as exc:
            self.document.name = previous_name
            self.show_error("Cannot save", f"{path}: {exc.strerror or exc}")
            return False
        self.path = Path(path).resolve()
        self.opened_from = None
        if self.document.load_issues:  # the file now holds what the editor shows: what was dropped is gone for good
            self.log.add("info", f"Saved without the {len(self.document.load_issues)} part(s) dropped on opening")
            self.document.load_issues = []
        self.stack.set_clean()
        self.add_recent(self.path)
        self.update_title()
        self.statusBar().showMessage(f"Saved {self.path}", 4000)
        return True

    # -- recent files and examples ----------------------------------------------------

    def recent_files(self) -> list[str]:
        value = settings().value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if Path(v).exists()]

    def add_recent(self, path: Path) -> None:
        recent = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        settings().setValue("recent", recent[:MAX_RECENT])
        self.rebuild_recent_menu()

    def rebuild_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        for path in self.recent_files():
            menu.addAction(Path(path).name, lambda p=path: self.open_file(p)).setToolTip(path)
        menu.setEnabled(bool(menu.actions()))

    def examples(self) -> list[Path]:
        return sorted(EXAMPLES_DIR.glob("*.json")) if EXAMPLES_DIR.is_dir() else []

    def build_examples_menu(self) -> None:
        self.examples_menu.clear()
        for path in self.examples():
            self.examples_menu.addAction(path.stem.replace("_", " ").title(), lambda p=path: self.open_example(p))
        self.examples_menu.setEnabled(bool(self.examples_menu.actions()))

    # -- autosave and recovery --------------------------------------------------------

    def browse_workflows(self):
        """The workflow browser (shipped examples and the user's folder), shown; returned for the tests."""
        from .templates import TemplateBrowser

        browser = TemplateBrowser(self, [EXAMPLES_DIR, user_workflows_dir()])
        browser.show()
        self._browser = browser
        return browser

    def autosave_path(self, document=None) -> Path:
        """Where the unsaved work of a tab (the one in front by default) is autosaved."""
        document = document or getattr(self, "document", self)
        return recovery_dir() / f"autosave-{os.getpid()}-{id(document)}.json"

    def autosave(self) -> Path | None:
        """Write the unsaved graph to the recovery folder (nothing when it is saved)."""
        target = self.autosave_path()
        if self.stack.is_clean():
            target.unlink(missing_ok=True)
            return None
        graph = self.document.copy()
        graph.meta = {**graph.meta, "recovered_from": str(self.path or "")}
        atomic_write_text(target, dumps_workflow(graph, self.registry, absolute_paths=True))
        return target

    def discard_autosave(self, document=None) -> None:
        self.autosave_path(document).unlink(missing_ok=True)

    def offer_recovery(self) -> bool:
        """After a crash: offer each readable orphaned autosave, newest first, until one is opened; True when one
        was. Only the one opened is removed (its work is in the editor now); the others stay for a later start,
        and one that cannot be read never hides an older good one."""
        for path in orphaned_recovery_files():
            try:
                graph = loads_workflow(path.read_text(encoding="utf-8"), self.registry, source=str(path))
            except (OSError, UnicodeDecodeError, WorkflowError) as exc:
                self.log.add("warning", f"Skipped an autosave that cannot be read: {exc}")
                continue
            answer = self.ask_recover(path)
            if answer == "discard":  # asked: the person chose to drop it
                path.unlink(missing_ok=True)
                self.log.add("info", f"Discarded the autosave {path.name}")
                continue
            if not answer:
                continue
            origin = graph.meta.pop("recovered_from", "")
            self.path = Path(origin) if origin else None
            self.opened_from = None
            if self.path is not None:
                graph.base_dir = self.path.parent
            self.set_graph(graph, dirty=True)
            self.log.add("warning", f"Recovered unsaved work from {path.name}")
            path.unlink(missing_ok=True)
            return True
        return False
