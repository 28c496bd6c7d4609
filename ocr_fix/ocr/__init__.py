"""Page OCR: the engine interface (:mod:`.engine`), Tesseract (:mod:`.tesseract`), the
cache (:mod:`.cache`), page formats (:mod:`.formats`) and running many pages
(:mod:`.scheduler`)."""
