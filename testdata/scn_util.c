/* Scenario parser helpers: errors, growable arrays, numbers, tokens. */
#include "scn_int.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scn_fail(struct bld *b, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (b->line > 0)
		snprintf(b->err, b->errlen, "%s:%d: %s", b->file, b->line, msg);
	else
		snprintf(b->err, b->errlen, "%s: %s", b->file, msg);
	longjmp(b->jb, 1);
}

void *scn_push(struct bld *b, void **arr, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		void *p = realloc(*arr, nc * sz);
		if (!p)
			scn_fail(b, "out of memory");
		*arr = p;
		*cap = nc;
	}
	char *item = (char *)*arr + (*n)++ * sz;
	memset(item, 0, sz);
	return item;
}

/* 0x1f, 31, 4K, 2M, 1G, 0x10M (binary suffixes K M G T). */
uint64_t scn_num(struct bld *b, const char *s)
{
	char *end;
	if (!s || !*s || *s == '-')
		scn_fail(b, "bad number '%s'", s ? s : "");
	unsigned long long v = strtoull(s, &end, 0);
	unsigned sh = 0;
	switch (toupper((unsigned char)*end)) {
	case 'K': sh = 10; end++; break;
	case 'M': sh = 20; end++; break;
	case 'G': sh = 30; end++; break;
	case 'T': sh = 40; end++; break;
	}
	if (*end)
		scn_fail(b, "bad number '%s'", s);
	if (sh && v >> (64 - sh))
		scn_fail(b, "number '%s' too large", s);
	return (uint64_t)v << sh;
}

int scn_tok_flag(struct sline *l, const char *name)
{
	for (int i = 1; i < l->ntok; i++)
		if (!(l->used >> i & 1) && !strcmp(l->tok[i], name)) {
			l->used |= 1ull << i;
			l->flagged |= 1ull << i;
			return 1;
		}
	return 0;
}

const char *scn_tok_opt(struct sline *l, const char *key)
{
	size_t kl = strlen(key);
	for (int i = 1; i < l->ntok; i++)
		if (!strncmp(l->tok[i], key, kl) && l->tok[i][kl] == '=') {
			l->used |= 1ull << i;
			return l->tok[i] + kl + 1;
		}
	return NULL;
}

/* Positional tokens: neither key=value nor a flag.  Flags must be consumed
 * first by the handler (scn_tok_flag); the remaining bare words are
 * positional, the verb being number 0. */
const char *scn_tok_pos(struct sline *l, int i)
{
	int k = 0;
	for (int t = 0; t < l->ntok; t++) {
		if (strchr(l->tok[t], '=') || (l->flagged >> t & 1))
			continue;
		if (k++ == i) {
			l->used |= 1ull << t;
			return l->tok[t];
		}
	}
	return NULL;
}

int scn_npos(struct sline *l)
{
	int k = 0;
	for (int t = 0; t < l->ntok; t++)
		if (!strchr(l->tok[t], '=') && !(l->flagged >> t & 1))
			k++;
	return k;
}

void scn_tok_done(struct bld *b, struct sline *l)
{
	for (int i = 0; i < l->ntok; i++)
		if (!(l->used >> i & 1))
			scn_fail(b, "unexpected '%s'", l->tok[i]);
}

uint64_t scn_opt_num(struct bld *b, struct sline *l, const char *key, uint64_t dflt)
{
	const char *v = scn_tok_opt(l, key);
	return v ? scn_num(b, v) : dflt;
}

/* [SSSS:]BB:DD.F, hexadecimal. */
void scn_parse_bdf(struct bld *b, const char *s, const struct munit *u, unsigned *bus, unsigned *devfn)
{
	unsigned seg = u ? u->u.segment : 0, bb, dd, ff;
	int n = -1;
	if (!s)
		scn_fail(b, "missing bus:dev.fn");
	if (sscanf(s, "%x:%x:%x.%x%n", &seg, &bb, &dd, &ff, &n) == 4 && n == (int)strlen(s)) {
		if (u && seg != u->u.segment)
			scn_fail(b, "'%s': segment %04x is not unit %s's (%04x)", s, seg, u->u.name, u->u.segment);
	} else if (n = -1, sscanf(s, "%x:%x.%x%n", &bb, &dd, &ff, &n) != 3 || n != (int)strlen(s)) {
		scn_fail(b, "bad bus:dev.fn '%s'", s);
	}
	if (bb > 255 || dd > 31 || ff > 7)
		scn_fail(b, "bad bus:dev.fn '%s'", s);
	*bus = bb;
	*devfn = dd << 3 | ff;
}

unsigned scn_parse_perm(struct bld *b, const char *s)
{
	if (!s)
		scn_fail(b, "missing permission (r, w or rw)");
	if (!strcmp(s, "r"))
		return VTD_PERM_R;
	if (!strcmp(s, "w"))
		return VTD_PERM_W;
	if (!strcmp(s, "rw"))
		return VTD_PERM_R | VTD_PERM_W;
	scn_fail(b, "bad permission '%s' (r, w or rw)", s);
}

const char *scn_bdf_str(uint16_t sid, char *buf)
{
	snprintf(buf, 16, "%02x:%02x.%x", sid >> 8, (sid >> 3) & 0x1f, sid & 7);
	return buf;
}
