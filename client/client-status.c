/* SPDX-License-Identifier: ISC */
/*
 * The sp_status_* accessors: the hosts and workers of a status event,
 * read from its parsed JSON line.
 */
#include "client-int.h"

static json_object *
client_status_member(const sp_event *ev, const char *array, size_t i,
		     const char *key)
{
	json_object *a, *o, *v;

	if (ev->type != SP_EV_STATUS || ev->status == NULL || key == NULL ||
	    !json_object_object_get_ex(ev->status, array, &a) ||
	    i >= json_object_array_length(a))
		return NULL;
	o = json_object_array_get_idx(a, i);
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static size_t
client_status_count(const sp_event *ev, const char *array)
{
	json_object *a;

	if (ev->type != SP_EV_STATUS || ev->status == NULL ||
	    !json_object_object_get_ex(ev->status, array, &a))
		return 0;
	return json_object_array_length(a);
}

/* Integers as they are, booleans as 0/1; -1 when absent or null. */
static long long
client_status_int(json_object *v)
{
	if (v != NULL && json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	if (v == NULL || !json_object_is_type(v, json_type_int))
		return -1;
	return (long long)json_object_get_int64(v);
}

size_t
sp_status_nhosts(const sp_event *ev)
{
	return client_status_count(ev, "hosts");
}

size_t
sp_status_nworkers(const sp_event *ev)
{
	return client_status_count(ev, "workers");
}

const char *
sp_status_host_str(const sp_event *ev, size_t i, const char *key)
{
	json_object *v = client_status_member(ev, "hosts", i, key);

	if (v == NULL || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long
sp_status_host_int(const sp_event *ev, size_t i, const char *key)
{
	return client_status_int(client_status_member(ev, "hosts", i, key));
}

long long
sp_status_worker_int(const sp_event *ev, size_t i, const char *key)
{
	return client_status_int(client_status_member(ev, "workers", i, key));
}
