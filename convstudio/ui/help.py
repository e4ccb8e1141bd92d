"""Help: the user guide (the repository's Markdown docs rendered in the app), the keyboard shortcuts
read from the window's own actions, the glossary and About.

The guide's pages link to each other as relative ``.md`` links; a QTextBrowser follows them, and
"Open in Browser" hands the current page to the system when the docs are wanted full size.
"""

from __future__ import annotations

import platform
import sys
from importlib import metadata
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QAction, QDesktopServices, QImage, QKeySequence, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from convstudio.core.glossary import GLOSSARY, Term, search

__all__ = ["GlossaryDialog", "HelpWindow", "ShortcutsDialog", "about_text", "docs_dir", "guide_pages",
           "shortcut_rows"]

_ROOT = Path(__file__).resolve().parents[2]
GUIDE = "user_guide.md"
GLOSSARY_SCHEME = "glossary"
_IMAGE_WIDTH = 640  # screenshots are 1600 px wide: show them at a readable size in the guide
_ROLE = Qt.ItemDataRole.UserRole


def docs_dir() -> Path | None:
    """The folder holding the Markdown docs, or None when the app runs without them (a wheel)."""
    path = _ROOT / "docs"
    return path if (path / GUIDE).is_file() else None


_FIRST = (GUIDE, "desktop_app.md", "inside_the_network.md", "lessons.md", "importing_models.md")


def guide_pages() -> list[tuple[str, Path]]:
    """(title, path) of every page: the guide and the user pages first, then the other docs and the README."""
    folder = docs_dir()
    if folder is None:
        return []
    rank = {name: i for i, name in enumerate(_FIRST)}
    paths = sorted(folder.glob("*.md"), key=lambda p: (rank.get(p.name, len(rank)), p.name.lower()))
    pages = [(_title(p), p) for p in paths]
    if (_ROOT / "README.md").is_file():
        pages.append(("README (project overview)", _ROOT / "README.md"))
    return pages


def _title(path: Path) -> str:
    """The page's first heading, up to a colon (the list beside the page is narrow)."""
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("# "):
            return line[2:].split(":")[0].strip()
    return path.stem.replace("_", " ")


class _Browser(QTextBrowser):
    """A text browser that shows wide images scaled down and leaves glossary links to its owner."""

    def loadResource(self, kind: int, url: QUrl):  # noqa: N802 - Qt's name
        if kind == QTextDocument.ResourceType.ImageResource.value and url.isLocalFile():
            image = QImage(url.toLocalFile())
            if not image.isNull() and image.width() > _IMAGE_WIDTH:
                image = image.scaledToWidth(_IMAGE_WIDTH, Qt.TransformationMode.SmoothTransformation)
            return image
        return super().loadResource(kind, url)


class HelpWindow(QDialog):
    """The user guide: a page list on the left, the rendered page on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("ConvStudio User Guide")
        self.resize(1000, 720)
        self.pages = QListWidget()
        self.browser = _Browser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setOpenLinks(True)
        self.browser.sourceChanged.connect(self._on_source)
        for title, path in guide_pages():
            item = QListWidgetItem(title)
            item.setData(_ROLE, str(path))
            self.pages.addItem(item)
        self.pages.currentItemChanged.connect(self._open_item)
        split = QSplitter()
        split.addWidget(self.pages)
        split.addWidget(self.browser)
        split.setSizes([240, 760])
        self.pages.setWordWrap(True)
        back = QPushButton("Back")
        back.clicked.connect(self.browser.backward)
        self.browser.backwardAvailable.connect(back.setEnabled)
        back.setEnabled(False)
        external = QPushButton("Open in Browser")
        external.setToolTip("Open this page with the system's viewer for Markdown files")
        external.clicked.connect(self.open_externally)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(back)
        row.addWidget(external)
        row.addStretch(1)
        row.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(row)
        if self.pages.count():
            self.pages.setCurrentRow(0)
        else:
            self.browser.setMarkdown("# User guide\n\nThe documentation is not installed with this copy of "
                                     "ConvStudio. Read it online in the project's `docs/` folder.")
            external.setEnabled(False)

    def _open_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.open_page(Path(item.data(_ROLE)))

    def open_page(self, path: Path) -> None:
        """Show one Markdown page (links to other pages and images resolve beside it)."""
        url = QUrl.fromLocalFile(str(path))
        if self.browser.source() != url:
            self.browser.setSource(url, QTextDocument.ResourceType.MarkdownResource)

    def _on_source(self, url: QUrl) -> None:
        path = url.toLocalFile()
        for row in range(self.pages.count()):
            item = self.pages.item(row)
            if item.data(_ROLE) == path and self.pages.currentItem() is not item:
                self.pages.blockSignals(True)
                self.pages.setCurrentItem(item)
                self.pages.blockSignals(False)

    def current_path(self) -> str:
        return self.browser.source().toLocalFile()

    def open_externally(self) -> bool:
        """Hand the current page to the system (a browser or Markdown viewer)."""
        source = self.browser.source()
        return bool(source.isValid()) and QDesktopServices.openUrl(source)


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(command, keys) for every action with a shortcut, as the user sees them, sorted by command."""
    rows: dict[str, str] = {}
    for action in actions:
        keys = [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty()]
        if keys:
            name = action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip(".…")
            rows[name] = ", ".join(keys)
    return sorted(rows.items(), key=lambda r: r[0].lower())


class ShortcutsDialog(QDialog):
    """Keyboard shortcuts, generated from the live actions so the list cannot go stale."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard Shortcuts")
        self.resize(460, 560)
        rows = shortcut_rows(actions)
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(["Command", "Keys"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)


def term_html(t: Term) -> str:
    """One entry as rich text, its see-also entries as ``glossary:`` links."""
    from html import escape

    links = ", ".join(f'<a href="{GLOSSARY_SCHEME}:{k}">{escape(GLOSSARY[k].title)}</a>' for k in t.see_also)
    more = f"<p>See also: {links}</p>" if links else ""
    return f"<h3>{escape(t.title)}</h3><p>{escape(t.text)}</p>{more}"


class GlossaryDialog(QDialog):
    """The glossary, searchable: type to filter, pick an entry to read it, follow its see-also links."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Glossary")
        self.resize(760, 480)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText("Search the glossary (e.g. stride, padding)")
        self.filter.setClearButtonEnabled(True)
        self.list = QListWidget()
        self.text = QTextBrowser()
        self.text.setOpenLinks(False)
        self.text.anchorClicked.connect(self._on_link)
        self.filter.textChanged.connect(self._fill)
        self.list.currentItemChanged.connect(self._show_item)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.text)
        split.setSizes([240, 520])
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(split, 1)
        layout.addWidget(buttons)
        self._fill("")

    def _fill(self, text: str) -> None:
        self.list.clear()
        for t in search(text):
            item = QListWidgetItem(t.title)
            item.setData(_ROLE, t.key)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        else:
            self.text.setHtml(f"<p>No entry matches “{text.strip()}”.</p>")

    def _show_item(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.text.setHtml(term_html(GLOSSARY[item.data(_ROLE)]))

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() == GLOSSARY_SCHEME:
            self.show_term(url.path())
        else:
            QDesktopServices.openUrl(url)

    def show_term(self, key: str) -> None:
        """Show entry ``key`` (clearing the search so it is in the list)."""
        if key not in GLOSSARY:
            return
        if self.filter.text():
            self.filter.setText("")
        for row in range(self.list.count()):
            if self.list.item(row).data(_ROLE) == key:
                self.list.setCurrentRow(row)
                return

    def current_key(self) -> str | None:
        item = self.list.currentItem()
        return item.data(_ROLE) if item is not None else None


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def about_text() -> str:
    """Rich text for Help > About: the app's version and those of the libraries it runs on.

    TensorFlow and Keras are named only once loaded (About never imports them: that takes seconds).
    """
    rows = [("Python", platform.python_version()), ("Qt", qVersion()), ("PySide6", pyside_version)]
    for module, label in (("tensorflow", "TensorFlow"), ("keras", "Keras"), ("numpy", "NumPy"),
                          ("matplotlib", "Matplotlib")):
        loaded = sys.modules.get(module)
        version = getattr(loaded, "__version__", None) if loaded is not None else None
        rows.append((label, version or "not loaded yet"))
    table = "".join(f"<tr><td>{name}</td><td>&nbsp;{value}</td></tr>" for name, value in rows)
    return (f"<h3>ConvStudio {_version('convstudio') or '(version unknown: not installed)'}</h3>"
            "<p>Build convolutional neural networks from blocks, train them, and look inside them.</p>"
            f"<table>{table}</table>")
