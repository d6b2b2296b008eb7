/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "packet_handle_priv.h"
#include "chunk_pool.h"
#include "errors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/**
 * Per-environment state of the PacketHandle class.
 */
typedef struct {
	/** the PacketHandle constructor */
	napi_ref constructor;
	/** handle for the constructor to wrap, NULL outside packet_handle_new */
	packet_handle_t *pending;
} class_state_t;

/** Type tag that marks objects wrapping a packet_handle_t */
static const napi_type_tag handle_tag = {
	0x6c7570696e615f70ULL, 0x61636b6574686e64ULL,
};

/**
 * Free the handle once neither JavaScript nor libuv uses it.
 *
 * @param handle	handle to free
 */
static void free_if_unused(packet_handle_t *handle)
{
	if (handle->finalized &&
		handle->poll_state != POLL_OPEN &&
		handle->poll_state != POLL_CLOSING)
	{
		chunk_pool_give_back(handle->staging);
		free(handle);
	}
}

/**
 * Delete a reference and clear it, unless the environment is gone.
 *
 * @param handle	handle the reference belongs to
 * @param ref		reference to delete, may point to NULL
 */
static void delete_ref(packet_handle_t *handle, napi_ref *ref)
{
	if (*ref && !handle->env_gone)
	{
		napi_delete_reference(handle->env, *ref);
	}
	*ref = NULL;
}

/**
 * libuv close callback of the poll handle.
 *
 * @param uv		the poll handle
 */
static void on_poll_closed(uv_handle_t *uv)
{
	packet_handle_t *handle = uv->data;

	handle->poll_state = POLL_CLOSED;
	if (handle->async_context && !handle->env_gone)
	{
		napi_async_destroy(handle->env, handle->async_context);
	}
	handle->async_context = NULL;

	/* during teardown, Node waits for this removal before going on */
	if (handle->cleanup_hook)
	{
		napi_remove_async_cleanup_hook(handle->cleanup_hook);
		handle->cleanup_hook = NULL;
	}
	free_if_unused(handle);
}

/**
 * Stop polling and close fd, without calling into JavaScript.
 *
 * @param handle	handle to shut down, must be open
 */
static void shutdown_fd(packet_handle_t *handle)
{
	if (handle->poll_state == POLL_OPEN)
	{
		uv_poll_stop(&handle->poll);
		uv_close((uv_handle_t*)&handle->poll, on_poll_closed);
		handle->poll_state = POLL_CLOSING;
	}

	/* Linux releases fd even if close() fails, so it is never retried */
	close(handle->fd);
	handle->fd = -1;
	handle->reading = false;
}

/**
 * Remove the environment cleanup hook of a handle closed by JavaScript.
 *
 * @param handle	handle whose hook to remove
 */
static void remove_cleanup_hook(packet_handle_t *handle)
{
	if (handle->cleanup_hook)
	{
		napi_remove_async_cleanup_hook(handle->cleanup_hook);
		handle->cleanup_hook = NULL;
	}
}

/**
 * Async cleanup hook: close fd and the poll handle when the environment
 * (the main thread or a worker) exits with the handle still open.
 *
 * @param hook		handle of this hook, removed once the poll is closed
 * @param data		the packet_handle_t
 */
static void on_env_teardown(napi_async_cleanup_hook_handle hook, void *data)
{
	packet_handle_t *handle = data;

	handle->env_gone = true;
	handle->cleanup_hook = hook;
	if (handle->fd >= 0)
	{
		shutdown_fd(handle);
	}
	if (handle->poll_state != POLL_CLOSING)
	{
		remove_cleanup_hook(handle);
	}
}

/**
 * Finalizer of the JavaScript object.
 *
 * A reading handle holds a strong reference to its object, so this runs
 * for handles that were closed, stopped or never started.
 *
 * @param env		N-API environment
 * @param data		the packet_handle_t
 * @param hint		unused
 */
static void finalize(napi_env env, void *data, void *hint)
{
	packet_handle_t *handle = data;

	(void)env;
	(void)hint;

	if (handle->fd >= 0)
	{
		remove_cleanup_hook(handle);
		shutdown_fd(handle);
	}
	delete_ref(handle, &handle->on_packets);
	delete_ref(handle, &handle->on_error);
	delete_ref(handle, &handle->self);
	handle->finalized = true;
	free_if_unused(handle);
}

/*
 * Described in header
 */
packet_handle_t *packet_handle_this(napi_env env, napi_callback_info info,
									size_t *argc, napi_value *argv)
{
	napi_value this;
	bool tagged = false;
	void *data;

	if (napi_get_cb_info(env, info, argc, argv, &this, NULL) != napi_ok ||
		napi_check_object_type_tag(env, this, &handle_tag,
								   &tagged) != napi_ok ||
		!tagged ||
		napi_unwrap(env, this, &data) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_THIS",
								"The receiver is not a PacketHandle");
		return NULL;
	}
	return data;
}

/*
 * Described in header
 */
bool packet_handle_check_open(napi_env env, packet_handle_t *handle)
{
	if (handle->fd < 0)
	{
		lupina_throw_state_error(env, "ERR_LUPINA_CLOSED", "The %s is closed",
								 handle->label);
		return false;
	}
	return true;
}

/**
 * Apply the ref()/unref() choice to the poll handle.
 *
 * @param handle	handle to update
 */
static void apply_ref(packet_handle_t *handle)
{
	if (handle->poll_state != POLL_OPEN)
	{
		return;
	}
	if (handle->referenced)
	{
		uv_ref((uv_handle_t*)&handle->poll);
	}
	else
	{
		uv_unref((uv_handle_t*)&handle->poll);
	}
}

/**
 * Store a function argument in a reference, replacing an older one.
 *
 * @param handle	handle the reference belongs to
 * @param value		function to reference
 * @param ref		reference to replace
 * @return			napi_ok, or the status of the failed N-API call
 */
static napi_status replace_ref(packet_handle_t *handle, napi_value value,
							   napi_ref *ref)
{
	napi_ref created;
	napi_status status;

	status = napi_create_reference(handle->env, value, 1, &created);
	if (status == napi_ok)
	{
		delete_ref(handle, ref);
		*ref = created;
	}
	return status;
}

/**
 * Create the poll handle and the async context on the first start().
 *
 * @param handle	handle without a poll handle
 * @param this		JavaScript object of the handle
 * @return			true on success, false if an exception is pending
 */
static bool init_poll(packet_handle_t *handle, napi_value this)
{
	struct uv_loop_s *loop;
	napi_value name;
	napi_status status;
	int err;

	status = napi_get_uv_event_loop(handle->env, &loop);
	if (status != napi_ok)
	{
		lupina_throw_napi(handle->env, status, "napi_get_uv_event_loop");
		return false;
	}
	err = uv_poll_init(loop, &handle->poll, handle->fd);
	if (err)
	{
		lupina_throw_errno(handle->env, -err, "uv_poll_init", NULL,
						   "Cannot watch the %s", handle->label);
		return false;
	}
	handle->poll.data = handle;
	handle->poll_state = POLL_OPEN;

	status = napi_create_string_utf8(handle->env, "LupinaPacketHandle",
									 NAPI_AUTO_LENGTH, &name);
	if (status == napi_ok)
	{
		status = napi_async_init(handle->env, this, name,
								 &handle->async_context);
	}
	if (status != napi_ok)
	{
		lupina_throw_napi(handle->env, status, "napi_async_init");
		return false;
	}
	return true;
}

/**
 * JavaScript method start(onPackets, onError).
 */
static napi_value start(napi_env env, napi_callback_info info)
{
	napi_value argv[2], this;
	napi_valuetype type;
	packet_handle_t *handle;
	size_t argc = 2, i;
	int err;

	handle = packet_handle_this(env, info, &argc, argv);
	if (!handle || !packet_handle_check_open(env, handle))
	{
		return NULL;
	}
	for (i = 0; i < 2; i++)
	{
		if (i >= argc || napi_typeof(env, argv[i], &type) != napi_ok ||
			type != napi_function)
		{
			lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
						"start() needs the onPackets and onError functions");
			return NULL;
		}
	}
	if (replace_ref(handle, argv[0], &handle->on_packets) != napi_ok ||
		replace_ref(handle, argv[1], &handle->on_error) != napi_ok)
	{
		lupina_throw_napi(env, napi_generic_failure, "napi_create_reference");
		return NULL;
	}
	if (handle->reading)
	{
		return NULL;
	}

	napi_get_cb_info(env, info, NULL, NULL, &this, NULL);
	if (handle->poll_state == POLL_NONE && !init_poll(handle, this))
	{
		return NULL;
	}
	err = uv_poll_start(&handle->poll, UV_READABLE, packet_handle_on_poll);
	if (err)
	{
		lupina_throw_errno(env, -err, "uv_poll_start", NULL,
						   "Cannot watch the %s", handle->label);
		return NULL;
	}
	if (napi_create_reference(env, this, 1, &handle->self) != napi_ok)
	{
		uv_poll_stop(&handle->poll);
		lupina_throw_napi(env, napi_generic_failure, "napi_create_reference");
		return NULL;
	}
	handle->reading = true;
	apply_ref(handle);
	return NULL;
}

/*
 * Described in header
 */
void packet_handle_stop_reading(packet_handle_t *handle)
{
	if (!handle->reading)
	{
		return;
	}
	uv_poll_stop(&handle->poll);
	handle->reading = false;
	delete_ref(handle, &handle->self);
}

/**
 * JavaScript method close(): stop reading and close fd. Calling it again,
 * also from inside onPackets, does nothing.
 */
static napi_value close_handle(napi_env env, napi_callback_info info)
{
	packet_handle_t *handle;
	size_t argc = 0;

	handle = packet_handle_this(env, info, &argc, NULL);
	if (!handle || handle->fd < 0)
	{
		return NULL;
	}
	remove_cleanup_hook(handle);
	shutdown_fd(handle);
	delete_ref(handle, &handle->on_packets);
	delete_ref(handle, &handle->on_error);
	delete_ref(handle, &handle->self);
	return NULL;
}

/**
 * Set ref()/unref() state, shared by both methods.
 */
static napi_value set_referenced(napi_env env, napi_callback_info info,
								 bool referenced)
{
	packet_handle_t *handle;
	size_t argc = 0;

	handle = packet_handle_this(env, info, &argc, NULL);
	if (handle)
	{
		handle->referenced = referenced;
		apply_ref(handle);
	}
	return NULL;
}

/**
 * JavaScript method ref(): reading keeps the event loop alive (default).
 */
static napi_value ref(napi_env env, napi_callback_info info)
{
	return set_referenced(env, info, true);
}

/**
 * JavaScript method unref(): reading does not keep the event loop alive.
 */
static napi_value unref(napi_env env, napi_callback_info info)
{
	return set_referenced(env, info, false);
}

/**
 * Set a numeric property, ignoring failures.
 *
 * @param env		N-API environment
 * @param object	object to change
 * @param key		property name
 * @param number	value, exact up to 2^53
 */
static void set_number(napi_env env, napi_value object, const char *key,
					   uint64_t number)
{
	napi_value value;

	if (napi_create_double(env, (double)number, &value) == napi_ok)
	{
		napi_set_named_property(env, object, key, value);
	}
}

/**
 * JavaScript method stats(): a new object with the counters.
 */
static napi_value stats(napi_env env, napi_callback_info info)
{
	packet_handle_t *handle;
	napi_value object;
	size_t argc = 0;

	handle = packet_handle_this(env, info, &argc, NULL);
	if (!handle || napi_create_object(env, &object) != napi_ok)
	{
		return NULL;
	}
	set_number(env, object, "packetsReceived",
			   handle->stats.packets_received);
	set_number(env, object, "bytesReceived", handle->stats.bytes_received);
	set_number(env, object, "packetsSent", handle->stats.packets_sent);
	set_number(env, object, "bytesSent", handle->stats.bytes_sent);
	set_number(env, object, "sendDrops", handle->stats.send_drops);
	set_number(env, object, "receiveErrors", handle->stats.receive_errors);
	set_number(env, object, "receiveTruncated",
			   handle->stats.receive_truncated);
	set_number(env, object, "batches", handle->stats.batches);
	set_number(env, object, "sendErrors", handle->stats.send_errors);
	set_number(env, object, "offloadSplits", handle->stats.offload_splits);
	set_number(env, object, "offloadMerged", handle->stats.offload_merged);
	set_number(env, object, "offloadErrors", handle->stats.offload_errors);
	return object;
}

/**
 * Constructor: wraps the handle that packet_handle_new() put aside, and
 * rejects calls from JavaScript.
 */
static napi_value construct(napi_env env, napi_callback_info info)
{
	class_state_t *state;
	napi_value this;
	packet_handle_t *handle;

	if (napi_get_cb_info(env, info, NULL, NULL, &this, NULL) != napi_ok ||
		napi_get_instance_data(env, (void**)&state) != napi_ok ||
		!state || !state->pending)
	{
		lupina_throw_type_error(env, "ERR_ILLEGAL_CONSTRUCTOR",
				"PacketHandle objects come from openTun() or openRawSocket()");
		return NULL;
	}
	handle = state->pending;
	if (napi_type_tag_object(env, this, &handle_tag) != napi_ok ||
		napi_wrap(env, this, handle, finalize, NULL, NULL) != napi_ok)
	{
		lupina_throw_napi(env, napi_generic_failure, "napi_wrap");
		return NULL;
	}
	state->pending = NULL;
	return this;
}

/**
 * Finalizer of the per-environment class state.
 */
static void free_class_state(napi_env env, void *data, void *hint)
{
	class_state_t *state = data;

	(void)hint;
	napi_delete_reference(env, state->constructor);
	free(state);
}

/*
 * Described in header
 */
napi_status packet_handle_init(napi_env env)
{
	napi_property_descriptor methods[] = {
		{ "start", NULL, start, NULL, NULL, NULL, napi_default, NULL },
		{ "write", NULL, packet_handle_write, NULL, NULL, NULL,
		  napi_default, NULL },
		{ "writeBatch", NULL, packet_handle_write_batch, NULL, NULL, NULL,
		  napi_default, NULL },
		{ "sendTo", NULL, packet_handle_send_to, NULL, NULL, NULL,
		  napi_default, NULL },
		{ "close", NULL, close_handle, NULL, NULL, NULL, napi_default, NULL },
		{ "ref", NULL, ref, NULL, NULL, NULL, napi_default, NULL },
		{ "unref", NULL, unref, NULL, NULL, NULL, napi_default, NULL },
		{ "stats", NULL, stats, NULL, NULL, NULL, napi_default, NULL },
	};
	class_state_t *state;
	napi_value constructor;
	napi_status status;

	state = calloc(1, sizeof(*state));
	if (!state)
	{
		return napi_generic_failure;
	}
	status = napi_define_class(env, "PacketHandle", NAPI_AUTO_LENGTH,
							   construct, NULL,
							   sizeof(methods) / sizeof(methods[0]), methods,
							   &constructor);
	if (status != napi_ok)
	{
		goto failed;
	}
	status = napi_create_reference(env, constructor, 1, &state->constructor);
	if (status != napi_ok)
	{
		goto failed;
	}
	status = napi_set_instance_data(env, state, free_class_state, NULL);
	if (status != napi_ok)
	{
		napi_delete_reference(env, state->constructor);
		goto failed;
	}
	return napi_ok;

failed:
	free(state);
	return status;
}

/**
 * Allocate a handle for fd.
 *
 * @return			the handle, NULL if out of memory
 */
static packet_handle_t *create_handle(napi_env env, packet_handle_type_t type,
									  int family, int fd, const char *label,
									  bool vnet_header)
{
	packet_handle_t *handle;

	handle = calloc(1, sizeof(*handle));
	if (!handle)
	{
		return NULL;
	}
	handle->env = env;
	handle->type = type;
	handle->vnet_header = vnet_header;
	handle->family = family;
	handle->fd = fd;
	handle->referenced = true;
	handle->poll_state = POLL_NONE;
	snprintf(handle->label, sizeof(handle->label), "%s", label);
	return handle;
}

/*
 * Described in header
 */
napi_value packet_handle_new(napi_env env, packet_handle_type_t type,
							 int family, int fd, const char *label,
							 bool vnet_header)
{
	class_state_t *state;
	packet_handle_t *handle;
	napi_value constructor, object = NULL;
	napi_status status;

	handle = create_handle(env, type, family, fd, label, vnet_header);
	if (!handle)
	{
		napi_throw_error(env, "ENOMEM", "Out of memory for a PacketHandle");
		goto failed;
	}
	status = napi_get_instance_data(env, (void**)&state);
	if (status != napi_ok || !state)
	{
		lupina_throw_napi(env, status, "napi_get_instance_data");
		goto failed;
	}
	status = napi_get_reference_value(env, state->constructor, &constructor);
	if (status != napi_ok)
	{
		lupina_throw_napi(env, status, "napi_get_reference_value");
		goto failed;
	}

	state->pending = handle;
	status = napi_new_instance(env, constructor, 0, NULL, &object);
	if (state->pending)
	{
		/* the constructor failed, so the handle is still ours to free */
		state->pending = NULL;
		lupina_throw_napi(env, status, "napi_new_instance");
		goto failed;
	}

	/* from here on the finalizer owns handle and fd */
	status = napi_add_async_cleanup_hook(env, on_env_teardown, handle,
										 &handle->cleanup_hook);
	if (status != napi_ok)
	{
		handle->cleanup_hook = NULL;
		lupina_throw_napi(env, status, "napi_add_async_cleanup_hook");
		shutdown_fd(handle);
		return NULL;
	}
	return object;

failed:
	close(fd);
	free(handle);
	return NULL;
}
