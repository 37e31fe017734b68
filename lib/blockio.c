/* Public calls on block readers and writers: dispatch through their tables. */
#include "cloudprotect/sys/provider.h"
#include "error.h"

#include <stdint.h>

uint64_t cp_block_reader_size(const cp_block_reader *reader)
{
	return reader->size;
}

uint32_t cp_block_reader_block_size(const cp_block_reader *reader)
{
	return reader->block_size;
}

static int check_range(uint64_t size, uint64_t offset, size_t len, const char *what)
{
	if (offset > size || len > size - offset)
		return cp_error_set(CP_EINVALID, CP_ERRCLASS_INVALID,
				    "%s of %zu bytes at offset %llu is past the end of the disk "
				    "(%llu bytes)",
				    what, len, (unsigned long long)offset,
				    (unsigned long long)size);
	return 0;
}

int cp_block_reader_read(cp_block_reader *reader, uint64_t offset, void *buf, size_t len)
{
	int rc = check_range(reader->size, offset, len, "read");
	if (rc)
		return rc;
	return reader->read(reader, offset, buf, len);
}

int cp_block_reader_allocated(cp_block_reader *reader, cp_block_range_cb cb, void *payload)
{
	if (reader->allocated)
		return reader->allocated(reader, cb, payload);
	if (!reader->size)
		return 0;
	cp_block_range all = {0, reader->size};
	return cb(&all, 1, payload);
}

void cp_block_reader_free(cp_block_reader *reader)
{
	if (reader)
		reader->free(reader);
}

uint64_t cp_block_writer_size(const cp_block_writer *writer)
{
	return writer->size;
}

unsigned int cp_block_writer_flags(const cp_block_writer *writer)
{
	return writer->flags;
}

int cp_block_writer_write(cp_block_writer *writer, uint64_t offset, const void *buf, size_t len)
{
	int rc = check_range(writer->size, offset, len, "write");
	if (rc)
		return rc;
	return writer->write(writer, offset, buf, len);
}

int cp_block_writer_commit(cp_block_writer *writer, char **id_out)
{
	char *ignored = NULL;
	int rc = writer->commit(writer, id_out ? id_out : &ignored);
	cp_free(ignored);
	return rc;
}

void cp_block_writer_free(cp_block_writer *writer)
{
	if (writer)
		writer->free(writer);
}
