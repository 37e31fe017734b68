#include "sim.h"

#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_source_path(const char *rel)
{
	const char *root = getenv("CLOUDPROTECT_SOURCE_ROOT");
	char *p = NULL;
	if (asprintf(&p, "%s/%s", root ? root : ".", rel) < 0)
		abort();
	return p;
}

void tu_sim_start(tu_sim *sim, const char *python, const char *script, const char *const *args)
{
	char *path = NULL;
	if (asprintf(&path, "tests/cloudsim/%s", script) < 0)
		abort();
	char *full = tu_source_path(path);
	free(path);
	const char *argv[16] = {python ? python : "python3", full};
	int n = 2;
	for (; args && *args && n < 15; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	tu_sim_start_cmd(sim, argv);
	free(full);
}

/* A port number from text; returns its end, or NULL when there is none. */
static const char *parse_port(const char *text, int *port)
{
	char *end = NULL;
	long v = strtol(text, &end, 10);
	if (end == text || v <= 0 || v > 65535)
		return NULL;
	*port = (int)v;
	return end;
}

/* A server's first line: "PORT <port> [<second port>]". */
static int parse_ports(const char *line, int *port, int *port2)
{
	*port2 = 0;
	if (strncmp(line, "PORT ", 5))
		return -1;
	const char *rest = parse_port(line + 5, port);
	if (!rest)
		return -1;
	rest += strspn(rest, " ");
	if (*rest && *rest != '\n' && !parse_port(rest, port2))
		return -1;
	return 0;
}

void tu_sim_start_cmd(tu_sim *sim, const char *const *argv)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	char line[128];
	size_t len = 0;
	struct pollfd p = {out[0], POLLIN, 0};
	/* Installing Azurite on a fresh machine takes a while. */
	/* cppcheck-suppress uninitvar ; line[len - 1] is read only when len > 0, after a read filled it */
	while (len < sizeof(line) - 1 && (!len || line[len - 1] != '\n')) {
		if (poll(&p, 1, 300000) <= 0)
			break;
		ssize_t r = read(out[0], line + len, 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	line[len] = '\0';
	close(out[0]);
	if (parse_ports(line, &sim->port, &sim->port2)) {
		fprintf(stderr, "%s %s did not start (got '%s')\n", argv[0], argv[1] ? argv[1] : "",
			line);
		kill(pid, SIGKILL);
		exit(1);
	}
	sim->pid = pid;
	sim->stdin_fd = in[1];
	snprintf(sim->base, sizeof(sim->base), "http://127.0.0.1:%d", sim->port);
}

void tu_sim_stop(tu_sim *sim)
{
	if (sim->pid <= 0)
		return;
	close(sim->stdin_fd);
	int status;
	for (int i = 0; i < 250; i++) {
		if (waitpid(sim->pid, &status, WNOHANG) == sim->pid) {
			sim->pid = 0;
			return;
		}
		usleep(20000);
	}
	kill(sim->pid, SIGKILL);
	waitpid(sim->pid, &status, 0);
	sim->pid = 0;
}

static size_t collect(char *data, size_t size, size_t n, void *userdata)
{
	cp_buf_put(userdata, data, size * n);
	return size * n;
}

static long plain_request(const tu_sim *sim, const char *path, const char *post, cp_buf *out)
{
	char url[256];
	snprintf(url, sizeof(url), "%s%s", sim->base, path);
	CURL *e = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
	if (post)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
	CURLcode rc = curl_easy_perform(e);
	long status = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(e);
	ck_assert_msg(rc == CURLE_OK, "control request %s: %s", path, curl_easy_strerror(rc));
	return status;
}

void tu_sim_post(const tu_sim *sim, const char *path, const char *json)
{
	cp_buf out = CP_BUF_INIT;
	long status = plain_request(sim, path, json, &out);
	ck_assert_msg(status == 200, "control %s: %ld %s", path, status, out.ptr);
	cp_buf_dispose(&out);
}

long tu_sim_get(const tu_sim *sim, const char *path, cp_buf *out)
{
	cp_buf_clear(out);
	return plain_request(sim, path, NULL, out);
}

int tu_sim_count(const tu_sim *sim, const char *method, const char *path)
{
	cp_buf log = CP_BUF_INIT;
	tu_sim_get(sim, "/_sim/log", &log);
	int count = 0;
	char needle[256];
	/* The log is JSON written by simcore.py with fixed key order. */
	const char *p = log.ptr ? log.ptr : "";
	while ((p = strstr(p, "{\"method\": \""))) {
		p += 12;
		int m = !method || !strncmp(p, method, strlen(method));
		snprintf(needle, sizeof(needle), "\"path\": \"%s\"", path ? path : "");
		const char *end = strchr(p, '}');
		const char *found = path ? strstr(p, needle) : p;
		if (m && found && (!end || found < end))
			count++;
	}
	cp_buf_dispose(&log);
	return count;
}

int tu_run_capture(const char *const *argv, const char *in, size_t in_len, cp_buf *out)
{
	int ip[2], op[2];
	if (pipe2(ip, O_CLOEXEC) || pipe2(op, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(ip[0], 0);
		dup2(op[1], 1);
		close(ip[0]);
		close(ip[1]);
		close(op[0]);
		close(op[1]);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	/* Feed stdin and drain stdout together, so large outputs cannot deadlock. */
	size_t sent = 0;
	if (!in || !in_len) {
		close(ip[1]);
		ip[1] = -1;
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[2] = {{op[0], POLLIN, 0}, {ip[1], POLLOUT, 0}};
		int n = poll(p, ip[1] >= 0 ? 2 : 1, -1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (ip[1] >= 0 && (p[1].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(ip[1], in + sent, in_len - sent);
			if (w > 0)
				sent += (size_t)w;
			if (w <= 0 || sent == in_len) {
				close(ip[1]);
				ip[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP)) {
			char buf[65536];
			ssize_t r = read(op[0], buf, sizeof(buf));
			if (r <= 0)
				break;
			cp_buf_put(out, buf, (size_t)r);
		}
	}
	if (ip[1] >= 0)
		close(ip[1]);
	close(op[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
