/*
 * main: dsyncd's entry point: the process-wide set-up (not dumpable,
 * signals, libcurl), then cli_main, which runs one-shot commands and
 * will start the daemon when no command is given.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>

#include "cli.h"
#include "http.h"

int main(int argc, char **argv)
{
	int rc;

	/* Before anything reads a secret: no core dump, and no ptrace or
	 * /proc/PID/environ, mem and the like by other processes of the same
	 * user. cli.c undoes it for dumpable = true (the daemon) and
	 * DSYNC_DUMPABLE=1 (the commands). */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		perror("dsyncd: prctl(PR_SET_DUMPABLE)");

	/* A reader that goes away (dsyncd diff | head) gives EPIPE on the
	 * write, which the command handles, instead of killing it. */
	signal(SIGPIPE, SIG_IGN);
	if (http_global_init() < 0) {
		fprintf(stderr, "dsyncd: libcurl failed to start\n");
		return 1;
	}
	rc = cli_main(argc, argv);
	http_global_cleanup();
	return rc;
}
