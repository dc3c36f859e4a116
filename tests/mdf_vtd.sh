# makedumpfile-vtd around a stand-in makedumpfile (tests/fake/makedumpfile),
# on the generated scenario dumps (tests/mdf_vtd.py).
exec /usr/bin/python3 tests/mdf_vtd.py
