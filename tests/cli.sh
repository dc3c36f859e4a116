# The vtd CLI end to end on the generated scenario dumps (tests/cli_expect.py).
exec /usr/bin/python3 tests/cli_expect.py
