/* Fuzz target: the marks record parser (a dump's note or sidecar is
 * untrusted), and formatting what it accepted. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vtd/record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vtd_analysis *a = NULL;
	struct vtd_record_meta meta;
	struct vtd_error e;
	char *journal = NULL, *text = NULL;
	size_t len;
	vtd_error_init(&e);
	if (vtd_record_parse((const char *)data, size, &a, &meta, &journal, &e) == 0) {
		vtd_error_init(&e);
		if (vtd_record_format(a, &meta, &text, &len, &e) == 0)
			free(text);
		vtd_analysis_free(a);
	}
	free(journal);
	return 0;
}
