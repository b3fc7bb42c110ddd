/*
 * main: dsyncd's entry point: the process-wide set-up (signals, libcurl),
 * then cli_main, which runs one-shot commands and will start the daemon
 * when no command is given.
 */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "http.h"

int main(int argc, char **argv)
{
	int rc;

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
