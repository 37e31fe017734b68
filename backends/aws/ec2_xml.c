/* Small readers over libxml2 trees for the query services' answers (namespaces ignored). */
#include "error.h"
#include "provider_aws.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

xmlNode *xml_child(xmlNode *parent, const char *name)
{
	if (!parent)
		return NULL;
	for (xmlNode *n = parent->children; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name))
			return n;
	return NULL;
}

char *xml_child_text(xmlNode *parent, const char *name)
{
	xmlNode *n = xml_child(parent, name);
	if (!n)
		return NULL;
	xmlChar *t = xmlNodeGetContent(n);
	char *s = t ? strdup((const char *)t) : NULL;
	xmlFree(t);
	return s;
}

void xml_child_copy(xmlNode *parent, const char *name, char *out, size_t cap)
{
	char *s = xml_child_text(parent, name);
	out[0] = 0;
	if (s) {
		strncpy(out, s, cap - 1);
		out[cap - 1] = 0;
	}
	free(s);
}

uint64_t xml_child_u64(xmlNode *parent, const char *name)
{
	char *s = xml_child_text(parent, name);
	uint64_t v = s ? strtoull(s, NULL, 10) : 0;
	free(s);
	return v;
}

xmlNode *xml_item(xmlNode *n)
{
	for (; n; n = n->next)
		if (n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, "item"))
			return n;
	return NULL;
}

/*
 * EC2 (tagSet/item{key,value}) and the other query services
 * (TagList/Tag{Key,Value}) spell tags differently but list them alike.
 */
static int tags_parse(aws_tags *out, xmlNode *list, xmlNode *(*next)(xmlNode *), const char *key,
		      const char *value)
{
	memset(out, 0, sizeof(*out));
	size_t n = 0;
	for (xmlNode *t = next(list ? list->children : NULL); t; t = next(t->next))
		n++;
	if (!n || !list)
		return 0;
	out->items = calloc(n, sizeof(cp_tag));
	if (!out->items)
		return cp_error_oom();
	for (xmlNode *t = next(list->children); t; t = next(t->next)) {
		char *k = xml_child_text(t, key), *v = xml_child_text(t, value);
		if (!k) {
			free(v);
			continue;
		}
		out->items[out->count].key = k;
		out->items[out->count++].value = v ? v : strdup("");
		if (!out->items[out->count - 1].value) {
			aws_tags_dispose(out);
			return cp_error_oom();
		}
	}
	return 0;
}

int aws_tags_parse(aws_tags *out, xmlNode *tag_set)
{
	return tags_parse(out, tag_set, xml_item, "key", "value");
}

int aws_query_tags_parse(aws_tags *out, xmlNode *list)
{
	return tags_parse(out, list, aws_query_next, "Key", "Value");
}

const char *aws_tags_get(const aws_tags *tags, const char *key)
{
	for (size_t i = 0; i < tags->count; i++)
		if (!strcmp(tags->items[i].key, key))
			return tags->items[i].value;
	return NULL;
}

void aws_tags_dispose(aws_tags *tags)
{
	for (size_t i = 0; i < tags->count; i++) {
		free((char *)tags->items[i].key);
		free((char *)tags->items[i].value);
	}
	free(tags->items);
	memset(tags, 0, sizeof(*tags));
}

int64_t aws_parse_time(const char *text)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!text || !strptime(text, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}
