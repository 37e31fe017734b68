/*
 * A small object store client for the cloud store tests: it looks at a
 * store through the library's object store API (so a test can see what a
 * backup left, and how the store answers a delete), simulates an upload
 * killed before commit, and changes Azure account settings Azurite keeps.
 *
 *   objstore_tool open URL                  prints "ok" or the error code name
 *   objstore_tool ls URL PREFIX             "key size class retain_until" lines
 *   objstore_tool head URL KEY              "size class retain_until archived"
 *   objstore_tool rm URL KEY                prints "ok" or the error code name
 *   objstore_tool put URL KEY BYTES         a patterned object, create_only
 *   objstore_tool put-many URL PREFIX N     N small objects PREFIX0..PREFIX(N-1)
 *   objstore_tool retain URL KEY UNTIL      extend the object's lock to UNTIL (unix s)
 *   objstore_tool kill-upload URL KEY MIB   stream MIB MiB, then die before commit
 *   objstore_tool azure-service ACCOUNT_URL BODY_XML   Set Blob Service Properties
 *   objstore_tool azure-sas PERMISSIONS     an account SAS for $AZURE_STORAGE_ACCOUNT/KEY
 */
#include "auth/azure.h"
#include "cloudprotect/common.h"
#include "cloudprotect/sys/objstore.h"
#include "creds/creds.h"
#include "http/http.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int say(int rc)
{
	if (!rc) {
		printf("ok\n");
		return 0;
	}
	const cp_error *e = cp_error_last();
	printf("error %d (%s): %s\n", rc, cp_error_code_name(rc), e ? e->message : "");
	return 0;
}

static int print_key(const char *key, const cp_object_info *info, void *payload)
{
	printf("%s %llu %s %lld\n", key, (unsigned long long)info->size,
	       info->storage_class[0] ? info->storage_class : "-", (long long)info->retain_until);
	return 0;
}

static int azure_service(const char *account_url, const char *xml)
{
	cp_http_client *client;
	cp_creds *creds;
	const char *account = getenv("AZURE_STORAGE_ACCOUNT"), *key = getenv("AZURE_STORAGE_KEY");
	if (!account || !key) {
		fprintf(stderr, "set AZURE_STORAGE_ACCOUNT and AZURE_STORAGE_KEY\n");
		return 2;
	}
	char url[512];
	snprintf(url, sizeof(url), "%s/?restype=service&comp=properties", account_url);
	int rc = cp_http_client_new(&client, NULL, NULL);
	rc = rc ? rc : cp_creds_new_static(&creds, "env", account, key, NULL, 0);
	if (rc)
		return say(rc);
	cp_azure_signer signer = {.creds = creds};
	cp_http_request req = {.method = "PUT",
			       .url = url,
			       .body = xml,
			       .body_len = strlen(xml),
			       .sign = cp_azure_sharedkey_sign_request,
			       .sign_payload = &signer};
	cp_http_headers_set(&req.headers, "Content-Type", "application/xml");
	cp_http_response resp = CP_HTTP_RESPONSE_INIT;
	say(cp_http_perform(client, &req, &resp));
	cp_http_request_dispose(&req);
	cp_http_response_dispose(&resp);
	cp_http_client_free(client);
	cp_creds_free(creds);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: see the comment at the top of objstore_tool.c\n");
		return 2;
	}
	if (!strcmp(argv[1], "azure-sas") && argc == 3) {
		cp_azure_sas_options o = {.permissions = argv[2],
					  .expiry = (int64_t)time(NULL) + 3600,
					  .services = "b",
					  .resource_types = "sco"};
		char *token;
		int rc = cp_azure_sas_account(&token, getenv("AZURE_STORAGE_ACCOUNT"),
					      getenv("AZURE_STORAGE_KEY"), &o);
		if (rc)
			return say(rc);
		printf("%s\n", token);
		free(token);
		return 0;
	}
	if (!strcmp(argv[1], "azure-service") && argc == 4)
		return azure_service(argv[2], argv[3]);
	cp_objstore *store;
	int rc = cp_objstore_open(&store, NULL, argv[2], 0);
	if (rc || !strcmp(argv[1], "open")) {
		say(rc);
		if (!rc)
			cp_objstore_close(store);
		return 0;
	}
	if (!strcmp(argv[1], "ls") && argc == 4) {
		rc = cp_objstore_list(store, argv[3], print_key, NULL);
		if (rc)
			say(rc);
	} else if (!strcmp(argv[1], "head") && argc == 4) {
		cp_object_info info;
		rc = cp_objstore_head(store, argv[3], &info);
		if (rc)
			say(rc);
		else
			printf("%llu %s %lld %d\n", (unsigned long long)info.size,
			       info.storage_class[0] ? info.storage_class : "-",
			       (long long)info.retain_until, info.archived);
	} else if (!strcmp(argv[1], "rm") && argc == 4) {
		say(cp_objstore_remove(store, argv[3]));
	} else if (!strcmp(argv[1], "put") && argc == 5) {
		size_t n = strtoull(argv[4], NULL, 10);
		char *data = malloc(n ? n : 1);
		for (size_t i = 0; i < n; i++)
			data[i] = (char)(i % 251);
		cp_put_options o = CP_PUT_OPTIONS_INIT;
		o.create_only = 1;
		say(cp_objstore_put(store, argv[3], data, n, &o));
		free(data);
	} else if (!strcmp(argv[1], "put-many") && argc == 5) {
		cp_put_options o = CP_PUT_OPTIONS_INIT;
		int n = (int)strtol(argv[4], NULL, 10);
		rc = 0;
		for (int i = 0; !rc && i < n; i++) {
			char key[256];
			snprintf(key, sizeof(key), "%s%05d", argv[3], i);
			rc = cp_objstore_put(store, key, key, strlen(key), &o);
		}
		say(rc);
	} else if (!strcmp(argv[1], "retain") && argc == 5) {
		say(cp_objstore_retain(store, argv[3], strtoll(argv[4], NULL, 10)));
	} else if (!strcmp(argv[1], "kill-upload") && argc == 5) {
		cp_objstore_writer *w;
		static char chunk[1 << 20];
		rc = cp_objstore_writer_open(store, argv[3], NULL, &w);
		for (int i = 0; !rc && i < strtol(argv[4], NULL, 10); i++)
			rc = cp_objstore_writer_write(w, chunk, sizeof(chunk));
		if (rc)
			return say(rc);
		fflush(stdout);
		/* Dies as a killed backup would: no commit, no free, no abort. */
		raise(SIGKILL);
	} else {
		fprintf(stderr, "unknown command %s\n", argv[1]);
		rc = 2;
	}
	cp_objstore_close(store);
	return rc == 2 ? 2 : 0;
}
