/*
 * main: dsyncd's entry point. Every command line goes through cli_main,
 * which runs one-shot commands and will start the daemon when no command
 * is given.
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
