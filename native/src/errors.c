/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "errors.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <uv.h>

/** Maximum length of an error message from the addon, in bytes */
#define MESSAGE_SIZE 512

/**
 * Name an errno value, e.g. "EPERM" for EPERM.
 *
 * @param err		errno value
 * @return			static string naming it
 */
static const char *errno_name(int err)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || \
		(__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	const char *name;

	name = strerrorname_np(err);
	if (name)
	{
		return name;
	}
#endif
	/* libuv codes are negated errno values on Unix */
	return uv_err_name(-err);
}

/**
 * Set a property of an object to a string, ignoring failures.
 *
 * @param env		N-API environment
 * @param object	object to change
 * @param key		property name
 * @param text		NUL-terminated property value
 */
static void set_string(napi_env env, napi_value object, const char *key,
					   const char *text)
{
	napi_value value;

	if (napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH,
								&value) == napi_ok)
	{
		napi_set_named_property(env, object, key, value);
	}
}

/**
 * Create an error of the given N-API constructor with code and message.
 *
 * @param env		N-API environment
 * @param create	napi_create_error() or one of its relatives
 * @param code		value of the code property
 * @param message	NUL-terminated message
 * @return			the error, NULL if creating it failed
 */
static napi_value create_error(napi_env env,
							   napi_status (*create)(napi_env, napi_value,
													 napi_value, napi_value*),
							   const char *code, const char *message)
{
	napi_value code_value, message_value, error;

	if (napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH,
								&code_value) != napi_ok ||
		napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH,
								&message_value) != napi_ok ||
		create(env, code_value, message_value, &error) != napi_ok)
	{
		return NULL;
	}
	return error;
}

/**
 * Create an errno error from a va_list, see lupina_errno_error().
 */
static napi_value errno_error_va(napi_env env, int err, const char *syscall,
								 const char *hint, const char *fmt,
								 va_list args)
{
	char summary[MESSAGE_SIZE / 2], message[MESSAGE_SIZE];
	const char *code;
	napi_value error, number;

	vsnprintf(summary, sizeof(summary), fmt, args);
	code = errno_name(err);
	snprintf(message, sizeof(message), "%s: %s (%s).%s%s", summary,
			 strerror(err), code, hint ? " " : "", hint ? hint : "");

	error = create_error(env, napi_create_error, code, message);
	if (!error)
	{
		return NULL;
	}
	if (napi_create_int32(env, -err, &number) == napi_ok)
	{
		napi_set_named_property(env, error, "errno", number);
	}
	set_string(env, error, "syscall", syscall);
	return error;
}

/*
 * Described in header
 */
napi_value lupina_errno_error(napi_env env, int err, const char *syscall,
							  const char *hint, const char *fmt, ...)
{
	napi_value error;
	va_list args;

	va_start(args, fmt);
	error = errno_error_va(env, err, syscall, hint, fmt, args);
	va_end(args);
	return error;
}

/*
 * Described in header
 */
void lupina_throw_errno(napi_env env, int err, const char *syscall,
						const char *hint, const char *fmt, ...)
{
	napi_value error;
	va_list args;

	va_start(args, fmt);
	error = errno_error_va(env, err, syscall, hint, fmt, args);
	va_end(args);

	if (error)
	{
		napi_throw(env, error);
	}
	else
	{
		napi_throw_error(env, errno_name(err), strerror(err));
	}
}

/**
 * Throw an error made by create_error() from a printf() format.
 */
static void throw_va(napi_env env,
					 napi_status (*create)(napi_env, napi_value, napi_value,
										   napi_value*),
					 const char *code, const char *fmt, va_list args)
{
	char message[MESSAGE_SIZE];
	napi_value error;

	vsnprintf(message, sizeof(message), fmt, args);
	error = create_error(env, create, code, message);
	if (error)
	{
		napi_throw(env, error);
	}
	else
	{
		napi_throw_error(env, code, message);
	}
}

/*
 * Described in header
 */
void lupina_throw_type_error(napi_env env, const char *code,
							 const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	throw_va(env, napi_create_type_error, code, fmt, args);
	va_end(args);
}

/*
 * Described in header
 */
void lupina_throw_state_error(napi_env env, const char *code,
							  const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	throw_va(env, napi_create_error, code, fmt, args);
	va_end(args);
}

/*
 * Described in header
 */
void lupina_throw_napi(napi_env env, napi_status status, const char *call)
{
	bool pending = false;

	if (status == napi_pending_exception ||
		(napi_is_exception_pending(env, &pending) == napi_ok && pending))
	{
		return;
	}
	lupina_throw_state_error(env, "ERR_LUPINA_NAPI",
							 "N-API call %s failed with status %d", call,
							 (int)status);
}

/*
 * Described in header
 */
bool lupina_get_packet(napi_env env, napi_value value, void **data,
					   size_t *length)
{
	napi_typedarray_type type;
	napi_value arraybuffer;
	bool is_typedarray = false;
	size_t offset;

	if (napi_is_typedarray(env, value, &is_typedarray) != napi_ok ||
		!is_typedarray ||
		napi_get_typedarray_info(env, value, &type, length, data,
								 &arraybuffer, &offset) != napi_ok ||
		type != napi_uint8_array)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The packet must be a Uint8Array or Buffer");
		return false;
	}
	return true;
}
