from ocr_fix.cli import main

main()
