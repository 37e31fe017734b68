/* Pulling single values out of XML answers (STS, S3, Azure), over libxml2. */
#ifndef CP_LIB_HTTP_XML_H
#define CP_LIB_HTTP_XML_H

#include <stddef.h>

/**
 * The text of the first element named name (namespace ignored) anywhere in
 * the document, malloc'd; NULL when absent or the document does not parse.
 */
char *cp_xml_find_text(const char *body, size_t len, const char *name);

#endif
