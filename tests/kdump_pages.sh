# Adding and dropping pages of kdump-compressed files (cli/kdump_pages.c, via
# build/kdump-pages), read back by drgn/libkdumpfile (tests/kdump_pages.py).
exec /usr/bin/python3 tests/kdump_pages.py
