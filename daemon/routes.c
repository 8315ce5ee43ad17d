/*
 * routes.c - assembles the route table from every handler module.
 */
#include "plantrack/routes.h"
#include "plantrack/auth.h"
#include "plantrack/calendar.h"
#include "plantrack/doccache.h"
#include "plantrack/events.h"
#include "plantrack/health.h"
#include "plantrack/imports.h"
#include "plantrack/http.h"
#include "plantrack/router.h"
#include "plantrack/sqlcalls.h"
#include "plantrack/plan_admin.h"
#include "plantrack/plans.h"
#include "plantrack/replica.h"
#include "plantrack/tasks.h"
#include "plantrack/tokens.h"
#include "plantrack/webhooks.h"
#include "plantrack/workflow.h"
#include "plantrack/reminders.h"

#include <stdlib.h>

struct router *routes_build(void)
{
	struct router *r = router_new();
	if (!r)
		return NULL;
	auth_init();
	replica_init();
	doccache_init();
	int rc = sqlcalls_register();
	rc |= health_register(r);
	rc |= tasks_register(r);
	rc |= plans_register(r);
	rc |= plan_admin_register(r);
	rc |= events_register(r);
	rc |= imports_register(r);
	rc |= tokens_register(r);
	rc |= webhooks_register(r);
	rc |= workflow_register(r);
	rc |= reminders_register(r);
	rc |= calendar_register(r);
	if (rc) {
		router_free(r);
		return NULL;
	}
	return r;
}
