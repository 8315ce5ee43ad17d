/*
 * roles.c - role names (see roles.h).
 */
#include "plantrack/roles.h"

#include <string.h>

const char *role_name(enum role role)
{
	switch (role) {
	case ROLE_VIEWER: return "viewer";
	case ROLE_EDITOR: return "editor";
	case ROLE_SUPERVISOR: return "supervisor";
	case ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

enum role role_parse(const char *name)
{
	if (!name)
		return ROLE_NONE;
	if (!strcmp(name, "viewer"))
		return ROLE_VIEWER;
	if (!strcmp(name, "editor"))
		return ROLE_EDITOR;
	if (!strcmp(name, "supervisor"))
		return ROLE_SUPERVISOR;
	if (!strcmp(name, "admin"))
		return ROLE_ADMIN;
	return ROLE_NONE;
}
