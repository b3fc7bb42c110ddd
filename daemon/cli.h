/*
 * cli: the one-shot commands of dsyncd (pull, diff, push, helpers) as a
 * drop-in for the directus-sync CLI: its flags, environment variables and
 * config file, its exit status (0 done, 1 error).
 */
#ifndef DSYNC_CLI_H
#define DSYNC_CLI_H

int cli_main(int argc, char **argv);

#endif
