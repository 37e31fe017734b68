#include "cloudprotect/sys/objstore.h"
#include "error.h"

#include <stdlib.h>
#include <string.h>

int cp_buf_grow(cp_buf *buf, size_t target_size)
{
	if (target_size + 1 <= buf->asize)
		return 0;
	size_t n = buf->asize ? buf->asize : 64;
	while (n < target_size + 1) {
		if (n > SIZE_MAX / 2)
			return cp_error_oom();
		n *= 2;
	}
	char *p = realloc(buf->ptr, n);
	if (!p)
		return cp_error_oom();
	buf->ptr = p;
	buf->asize = n;
	buf->ptr[buf->size] = '\0';
	return 0;
}

int cp_buf_put(cp_buf *buf, const void *data, size_t len)
{
	if (len > SIZE_MAX - buf->size - 1)
		return cp_error_oom();
	int rc = cp_buf_grow(buf, buf->size + len);
	if (rc)
		return rc;
	if (len)
		memcpy(buf->ptr + buf->size, data, len);
	buf->size += len;
	buf->ptr[buf->size] = '\0';
	return 0;
}

void cp_buf_clear(cp_buf *buf)
{
	buf->size = 0;
	if (buf->ptr)
		buf->ptr[0] = '\0';
}

void cp_buf_dispose(cp_buf *buf)
{
	free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->asize = 0;
}
