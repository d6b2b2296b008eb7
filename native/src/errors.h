/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

/**
 * @defgroup errors errors
 * JavaScript errors for failed system calls and invalid arguments.
 *
 * @{ @ingroup lupina_native
 */

#ifndef LUPINA_ERRORS_H_
#define LUPINA_ERRORS_H_

#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

/**
 * Create a JavaScript Error for a failed system call.
 *
 * The error has the properties code (the errno name, e.g. "EPERM"), errno
 * (the negated errno value, as in Node's own system errors) and syscall.
 * Its message is "<summary>: <strerror> (<code>).", then the hint.
 *
 * @param env		N-API environment
 * @param err		errno value of the failure
 * @param syscall	name of the failed call, e.g. "ioctl(TUNSETIFF)"
 * @param hint		sentence with the next step for the user, or NULL
 * @param fmt		printf() format of the summary of what failed
 * @return			the error, NULL if creating it failed
 */
napi_value lupina_errno_error(napi_env env, int err, const char *syscall,
							  const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/**
 * Throw a JavaScript Error for a failed system call.
 *
 * See lupina_errno_error() for the properties of the error.
 *
 * @param env		N-API environment
 * @param err		errno value of the failure
 * @param syscall	name of the failed call, e.g. "ioctl(TUNSETIFF)"
 * @param hint		sentence with the next step for the user, or NULL
 * @param fmt		printf() format of the summary of what failed
 */
void lupina_throw_errno(napi_env env, int err, const char *syscall,
						const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/**
 * Throw a JavaScript TypeError with a code, for an invalid argument.
 *
 * @param env		N-API environment
 * @param code		value of the code property, e.g. "ERR_INVALID_ARG_TYPE"
 * @param fmt		printf() format of the message
 */
void lupina_throw_type_error(napi_env env, const char *code,
							 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Get the bytes of a packet argument, throwing a TypeError with code
 * ERR_INVALID_ARG_TYPE unless it is a Uint8Array (or Buffer).
 *
 * @param env		N-API environment
 * @param value		the argument
 * @param data		receives a pointer to the first byte, past any offset
 * @param length	receives the byte length
 * @return			true, or false with the TypeError pending
 */
bool lupina_get_packet(napi_env env, napi_value value, void **data,
					   size_t *length);

/**
 * Throw a JavaScript Error with a code, for a call in the wrong state.
 *
 * @param env		N-API environment
 * @param code		value of the code property, e.g. "ERR_LUPINA_CLOSED"
 * @param fmt		printf() format of the message
 */
void lupina_throw_state_error(napi_env env, const char *code,
							  const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * Throw a generic Error if an N-API call failed without throwing.
 *
 * N-API calls that fail because of a pending exception need nothing more,
 * every other failure gets an Error naming the call.
 *
 * @param env		N-API environment
 * @param status	status returned by the failed N-API call
 * @param call		name of the failed N-API call
 */
void lupina_throw_napi(napi_env env, napi_status status, const char *call);

#endif /** LUPINA_ERRORS_H_ @}*/
