"""ComfyUI workflows in Kinograph: read them (JSON, or embedded in a PNG, WebP or video), map them onto Kinograph's
nodes with a report of what was mapped, approximated and dropped, and write Kinograph graphs back as ComfyUI API
prompts. Pillow and PyAV are imported only when an image or a video is read."""

from .errors import ComfyImportError, UnmappedNodesError
from .export import export_prompt
from .importer import ImportResult, import_data, import_file

__all__ = ["ComfyImportError", "ImportResult", "UnmappedNodesError", "export_prompt", "import_data", "import_file"]
