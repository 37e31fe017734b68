#include "http/xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* Larger answers than any listing page or error: refused unread. */
#define MAX_ANSWER (64u << 20)

xmlDoc *cp_xml_parse(const char *body, size_t len)
{
	if (!body || !len || len > MAX_ANSWER)
		return NULL;
	return xmlReadMemory(body, (int)len, "answer.xml", NULL,
			     XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
}

static int is_element(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

xmlNode *cp_xml_child(xmlNode *parent, const char *name)
{
	for (xmlNode *n = parent ? parent->children : NULL; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

xmlNode *cp_xml_next(xmlNode *node, const char *name)
{
	for (xmlNode *n = node ? node->next : NULL; n; n = n->next)
		if (is_element(n, name))
			return n;
	return NULL;
}

char *cp_xml_child_text(xmlNode *parent, const char *name)
{
	xmlNode *n = cp_xml_child(parent, name);
	return n ? (char *)xmlNodeGetContent(n) : NULL;
}

xmlNode *cp_xml_find(xmlNode *node, const char *name)
{
	for (; node; node = node->next) {
		if (is_element(node, name))
			return node;
		xmlNode *found = cp_xml_find(node->children, name);
		if (found)
			return found;
	}
	return NULL;
}

char *cp_xml_find_text(const char *body, size_t len, const char *name)
{
	xmlDoc *doc = cp_xml_parse(body, len);
	if (!doc)
		return NULL;
	char *out = NULL;
	xmlNode *n = cp_xml_find(xmlDocGetRootElement(doc), name);
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
