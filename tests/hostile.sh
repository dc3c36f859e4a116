# Hostile dumps (tests/hostile.py): truncated, lying, corrupt files must give
# a clear error or an answer, in bounded time, never a crash.
exec /usr/bin/python3 tests/hostile.py
