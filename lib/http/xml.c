#include "http/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

static xmlNode *find(xmlNode *node, const char *name)
{
	for (; node; node = node->next) {
		if (node->type == XML_ELEMENT_NODE && !strcmp((const char *)node->name, name))
			return node;
		xmlNode *found = find(node->children, name);
		if (found)
			return found;
	}
	return NULL;
}

char *cp_xml_find_text(const char *body, size_t len, const char *name)
{
	if (!body || !len || len > 64u << 20)
		return NULL;
	xmlDoc *doc = xmlReadMemory(body, (int)len, "answer.xml", NULL,
				    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (!doc)
		return NULL;
	char *out = NULL;
	xmlNode *n = find(xmlDocGetRootElement(doc), name);
	if (n) {
		xmlChar *text = xmlNodeGetContent(n);
		if (text) {
			out = strdup((const char *)text);
			/* The text may be a secret key; do not leave copies behind. */
			memset(text, 0, strlen((const char *)text));
			xmlFree(text);
		}
	}
	xmlFreeDoc(doc);
	return out;
}
