/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "address.h"
#include "errors.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/**
 * Parse an IPv6 zone, an interface name or a decimal index.
 *
 * @param zone		text after the "%"
 * @return			interface index, 0 if there is no such interface
 */
static uint32_t parse_zone(const char *zone)
{
	unsigned long index;
	char *end;

	if (zone[0] >= '0' && zone[0] <= '9')
	{
		index = strtoul(zone, &end, 10);
		if (*end != '\0' || index > UINT32_MAX)
		{
			return 0;
		}
		return (uint32_t)index;
	}
	return if_nametoindex(zone);
}

/**
 * Parse a numeric address of a family, see address_from_value().
 *
 * @param family	AF_INET or AF_INET6
 * @param text		NUL-terminated address, changed in place at a "%"
 * @param address	receives the socket address
 * @param length	receives the length of the socket address
 * @return			0 on success, -1 if text is not an address of family
 */
static int parse(int family, char *text, struct sockaddr_storage *address,
				 socklen_t *length)
{
	struct sockaddr_in *sin = (struct sockaddr_in*)address;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6*)address;
	char *zone;

	memset(address, 0, sizeof(*address));
	if (family == AF_INET)
	{
		sin->sin_family = AF_INET;
		*length = sizeof(*sin);
		return inet_pton(AF_INET, text, &sin->sin_addr) == 1 ? 0 : -1;
	}

	sin6->sin6_family = AF_INET6;
	*length = sizeof(*sin6);
	zone = strchr(text, '%');
	if (zone)
	{
		*zone++ = '\0';
		sin6->sin6_scope_id = parse_zone(zone);
		if (sin6->sin6_scope_id == 0)
		{
			return -1;
		}
	}
	return inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1 ? 0 : -1;
}

/*
 * Described in header
 */
int address_from_value(napi_env env, napi_value value, int family,
					   const char *role, struct sockaddr_storage *address,
					   socklen_t *length)
{
	char text[ADDRESS_TEXT_SIZE], shown[ADDRESS_TEXT_SIZE];
	napi_valuetype type;
	size_t size;

	if (napi_typeof(env, value, &type) != napi_ok || type != napi_string)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The %s address must be a string", role);
		return -1;
	}
	if (napi_get_value_string_utf8(env, value, text, sizeof(text),
								   &size) != napi_ok)
	{
		lupina_throw_napi(env, napi_generic_failure,
						  "napi_get_value_string_utf8");
		return -1;
	}
	snprintf(shown, sizeof(shown), "%s", text);

	/* a string that filled the buffer may have been cut short */
	if (size + 1 >= sizeof(text) ||
		parse(family, text, address, length) != 0)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
								"The %s address '%s' is not a numeric IPv%d "
								"address", role, shown,
								family == AF_INET ? 4 : 6);
		return -1;
	}
	return 0;
}

/*
 * Described in header
 */
int address_format(const struct sockaddr_storage *address, char *text,
				   size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in*)address;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6*)address;
	char name[IF_NAMESIZE];
	size_t used;

	switch (address->ss_family)
	{
		case AF_INET:
			return inet_ntop(AF_INET, &sin->sin_addr, text,
							 size) ? 0 : -1;
		case AF_INET6:
			if (!inet_ntop(AF_INET6, &sin6->sin6_addr, text, size))
			{
				return -1;
			}
			if (sin6->sin6_scope_id == 0)
			{
				return 0;
			}
			used = strlen(text);
			if (if_indextoname(sin6->sin6_scope_id, name))
			{
				snprintf(text + used, size - used, "%%%s", name);
			}
			else
			{
				snprintf(text + used, size - used, "%%%u",
						 (unsigned)sin6->sin6_scope_id);
			}
			return 0;
		default:
			return -1;
	}
}
