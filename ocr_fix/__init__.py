"""ocr-fix: OCR correction and scan fidelity for typed archival pages."""

__version__ = "0.1.0"
