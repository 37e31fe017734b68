/* Reading XML answers (STS, S3, Azure, GCS listings), over libxml2. */
#ifndef CP_LIB_HTTP_XML_H
#define CP_LIB_HTTP_XML_H

#include <libxml/tree.h>
#include <stddef.h>

/**
 * The text of the first element named name (namespace ignored) anywhere in
 * the document, malloc'd; NULL when absent or the document does not parse.
 */
char *cp_xml_find_text(const char *body, size_t len, const char *name);

/** Parse an answer without network access or messages; NULL when empty or not XML. */
xmlDoc *cp_xml_parse(const char *body, size_t len);

/** The first child element of parent named name; parent may be NULL. */
xmlNode *cp_xml_child(xmlNode *parent, const char *name);

/** The next sibling element after node named name, or NULL. */
xmlNode *cp_xml_next(xmlNode *node, const char *name);

/** The first element named name at or below node and its following siblings, depth first. */
xmlNode *cp_xml_find(xmlNode *node, const char *name);

/** The text of parent's child name (free with xmlFree), or NULL. */
char *cp_xml_child_text(xmlNode *parent, const char *name);

#endif
