#include "creds/ini.h"
#include "auth/digest.h"
#include "error.h"
#include "fs.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
	char *section, *key, *value;
} entry;

struct cp_ini {
	entry *items;
	size_t count;
	char **sections;
	size_t nsections;
};

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

static int add_section(cp_ini *ini, const char *name)
{
	char **s = realloc(ini->sections, (ini->nsections + 1) * sizeof(*s));
	if (!s)
		return cp_error_oom();
	ini->sections = s;
	if (!(s[ini->nsections] = strdup(name)))
		return cp_error_oom();
	ini->nsections++;
	return 0;
}

static int add_entry(cp_ini *ini, const char *section, const char *key, const char *value)
{
	entry *e = realloc(ini->items, (ini->count + 1) * sizeof(*e));
	if (!e)
		return cp_error_oom();
	ini->items = e;
	entry *n = &e[ini->count];
	n->section = strdup(section);
	n->key = strdup(key);
	n->value = strdup(value);
	ini->count++;
	if (!n->section || !n->key || !n->value)
		return cp_error_oom();
	for (char *c = n->key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 0;
}

static int parse(cp_ini *ini, char *text, const char *path)
{
	char *section = NULL;
	int lineno = 0;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		int indented = *line == ' ' || *line == '\t';
		char *l = trim(line);
		if (!*l || *l == '#' || *l == ';' || indented)
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']');
			if (!close)
				return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
						    "%s line %d: section header without ']'; write "
						    "[profile name]",
						    path, lineno);
			*close = '\0';
			section = trim(l + 1);
			int rc = add_section(ini, section);
			if (rc)
				return rc;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq || !section)
			return cp_error_set(CP_EINVALID, CP_ERRCLASS_CONFIG,
					    "%s line %d: expected 'key = value' inside a [section]",
					    path, lineno);
		*eq = '\0';
		int rc = add_entry(ini, section, trim(l), trim(eq + 1));
		if (rc)
			return rc;
	}
	return 0;
}

int cp_ini_load(cp_ini **out, const char *path)
{
	*out = NULL;
	cp_buf text = CP_BUF_INIT;
	int rc = cp_fs_read_file(path, &text);
	if (rc) {
		cp_buf_dispose(&text);
		return rc;
	}
	cp_ini *ini = calloc(1, sizeof(*ini));
	if (!ini) {
		cp_buf_dispose(&text);
		return cp_error_oom();
	}
	rc = parse(ini, text.ptr ? text.ptr : (char *)"", path);
	/* The file holds secret keys. */
	cp_secret_wipe(text.ptr, text.size);
	cp_buf_dispose(&text);
	if (rc) {
		cp_ini_free(ini);
		return rc;
	}
	*out = ini;
	return 0;
}

void cp_ini_free(cp_ini *ini)
{
	if (!ini)
		return;
	for (size_t i = 0; i < ini->count; i++) {
		free(ini->items[i].section);
		free(ini->items[i].key);
		cp_secret_free(ini->items[i].value);
	}
	for (size_t i = 0; i < ini->nsections; i++)
		free(ini->sections[i]);
	free(ini->sections);
	free(ini->items);
	free(ini);
}

int cp_ini_has_section(const cp_ini *ini, const char *section)
{
	for (size_t i = 0; ini && i < ini->nsections; i++)
		if (!strcmp(ini->sections[i], section))
			return 1;
	return 0;
}

const char *cp_ini_get(const cp_ini *ini, const char *section, const char *key)
{
	const char *found = NULL;
	/* The last assignment wins, as in botocore. */
	for (size_t i = 0; ini && i < ini->count; i++)
		if (!strcmp(ini->items[i].section, section) && !strcmp(ini->items[i].key, key))
			found = ini->items[i].value;
	return found && *found ? found : NULL;
}
