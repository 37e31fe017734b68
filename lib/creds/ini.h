/* The INI dialect of ~/.aws/credentials and ~/.aws/config. */
#ifndef CP_LIB_CREDS_INI_H
#define CP_LIB_CREDS_INI_H

typedef struct cp_ini cp_ini;

/** Load path; CP_ENOTFOUND (error set, naming it) when the file does not exist. */
int cp_ini_load(cp_ini **out, const char *path);
void cp_ini_free(cp_ini *ini);
/** 1 when [section] appears. */
int cp_ini_has_section(const cp_ini *ini, const char *section);
/** The value of key in [section], or NULL. Nested sub-sections ("s3 =" + indented lines) are skipped. */
const char *cp_ini_get(const cp_ini *ini, const char *section, const char *key);

#endif
