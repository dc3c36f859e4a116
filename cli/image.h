/* The dump image patcher: a copy of a dump with original bytes put back and
 * the marks record attached, and the way back to the as-captured file
 * (design.md §5–§7, docs/marks-record.md).
 *
 *   kdump-compressed: replacement pages appended raw, their page_desc
 *     repointed; the record is an ELF note "VTDSCOPE" after the existing
 *     notes, the sub-header grown by whole blocks when it does not fit;
 *   ELF: page bytes patched in the copy; the note appended to PT_NOTE, the
 *     data behind it shifted;
 *   flattened: every original record kept, in order, with patched bytes;
 *     new records only for file ranges no record covers (crash does not
 *     resolve overlapping records); the record goes in the note slack, else
 *     in a sidecar OUT.vtd.
 * The record's journal lines say how to get the as-captured file back.
 */
#ifndef CLI_IMAGE_H
#define CLI_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* New bytes at physical pa (within one 4 KiB page). */
struct image_patch { uint64_t pa; unsigned len; const uint8_t *bytes; };

#define IMAGE_NOTE_NAME "VTDSCOPE"
#define IMAGE_NOTE_TYPE 0x56544431u     /* "VTD1" */
/* makedumpfile-vtd's record in a flattened stream on standard output: after
 * the end marker, 16 bytes of magic, the text's length (le64), the text. */
#define IMAGE_TRAILER_MAGIC "VTDSCOPE-TRAILER"

/* Write out from the dump in with every patch applied and the record text
 * (from vtd_record_format, without its "end" line) attached with the
 * journal.  out is written under a temporary name and renamed; in is never
 * modified, and out naming in is refused.  On failure nothing is left at out
 * and err names the file and what went wrong.  where gets "note in OUT" or
 * "sidecar OUT.vtd". */
int image_write(const char *in, const char *out, const struct image_patch *p, size_t np,
		const char *record, size_t reclen, char *where, size_t wherelen,
		char *err, size_t errlen);

/* The same for a kdump-compressed file, in place and O(patches + notes):
 * the patched pages and a new note area (old notes + the record) are
 * appended, then the sub-header's note pointer and the page_descs are
 * repointed (every state on the way is a valid dump).  image_undo gives the
 * file as it was.  Refuses other formats.  step (may be NULL) is called
 * with "appended" and "pointed"; non-zero stops there and puts the file
 * back as it was (tests). */
int image_append(const char *path, const struct image_patch *p, size_t np,
		 const char *record, size_t reclen, int (*step)(const char *name),
		 char *err, size_t errlen);

/* Undo image_append in place: path becomes the file it was. */
int image_undo_inplace(const char *path, char *err, size_t errlen);

/* out: byte for byte the file image_write read as in. */
int image_undo(const char *in, const char *out, char *err, size_t errlen);

/* The record path carries (a flattened stream's trailer, its note, else the
 * sidecar PATH.vtd): 1 with a malloc'd text and from ("trailer of PATH",
 * "note in PATH" / "sidecar PATH.vtd"), 0 if none,
 * -1 on error (err). */
int image_read_record(const char *path, char **text, size_t *len, char *from, size_t fromlen,
		      char *err, size_t errlen);

#endif
