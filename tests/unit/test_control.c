/*
 * test_control: the daemon's control server against the one command table
 * (common/proto.c): a handler for every command, none for what is not in
 * the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "proto.h"
#include "service.h"

static void test_every_command(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < PROTO_NCMDS; i++) {
		if (!control_handles(&proto_cmds[i]))
			fail_msg("no handler for '%s'", proto_cmds[i].name);
		assert_ptr_equal(proto_find(proto_cmds[i].name),
		    &proto_cmds[i]);
	}
	assert_false(control_handles(NULL));
	assert_false(control_handles(proto_cmds + PROTO_NCMDS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
