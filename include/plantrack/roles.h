/*
 * roles.h - the four token roles, ordered (a route's floor admits its role
 * and every higher one), and their names as stored in api_tokens.role.
 * Pure: no I/O, no allocation, no state.
 */
#ifndef PLANTRACK_ROLES_H
#define PLANTRACK_ROLES_H

enum role { ROLE_NONE = 0, ROLE_VIEWER = 1, ROLE_EDITOR = 2, ROLE_SUPERVISOR = 3, ROLE_ADMIN = 4 };

/* "viewer", "editor", "supervisor", "admin", or "none"; a static string. */
const char *role_name(enum role role);
/* The role named name, or ROLE_NONE for NULL or any other name. */
enum role role_parse(const char *name);

#endif
