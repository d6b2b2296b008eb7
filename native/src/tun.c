/*
 * Copyright (C) 2025 The Lupina authors
 *
 * This program is free software; you can redistribute it and/or modify it
 * under the terms of the GNU General Public License as published by the
 * Free Software Foundation; either version 3 of the License, or (at your
 * option) any later version.
 */

#include "tun.h"
#include "errors.h"
#include "packet_handle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/** Clone device of the tun driver */
#define TUN_CLONE_DEVICE "/dev/net/tun"

/** Hint for failures that a missing capability explains */
#define NEEDS_NET_ADMIN \
	"Creating or changing a TUN device needs root or the CAP_NET_ADMIN " \
	"capability."

/**
 * Read an interface name argument, checking its length against IFNAMSIZ.
 *
 * @param env		N-API environment
 * @param value		JavaScript string
 * @param name		receives the NUL-terminated name
 * @return			true on success, false if an exception is pending
 */
static bool get_name(napi_env env, napi_value value, char name[IFNAMSIZ])
{
	char shown[64];
	napi_valuetype type;
	size_t length;

	if (napi_typeof(env, value, &type) != napi_ok || type != napi_string ||
		napi_get_value_string_utf8(env, value, NULL, 0, &length) != napi_ok)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"The interface name must be a string");
		return false;
	}
	if (length == 0 || length >= IFNAMSIZ)
	{
		napi_get_value_string_utf8(env, value, shown, sizeof(shown), NULL);
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
				"The interface name '%s' is %zu bytes long, but Linux needs "
				"1 to %d bytes (IFNAMSIZ %d includes the NUL)",
				shown, length, IFNAMSIZ - 1, IFNAMSIZ);
		return false;
	}
	napi_get_value_string_utf8(env, value, name, IFNAMSIZ, NULL);
	return true;
}

/**
 * Read an integer argument that is a uid or gid, or -1 for none.
 *
 * @param env		N-API environment
 * @param value		JavaScript number
 * @param what		"owner" or "group", for messages
 * @param id		receives the id, -1 for none
 * @return			true on success, false if an exception is pending
 */
static bool get_id(napi_env env, napi_value value, const char *what,
				   int64_t *id)
{
	double number;

	/* the range check comes first, as it also rejects NaN */
	if (napi_get_value_double(env, value, &number) != napi_ok ||
		!(number >= -1 && number < (double)UINT32_MAX) ||
		number != (double)(int64_t)number)
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_VALUE",
				"The %s must be a uid or gid from 0 to %u, or -1 for none",
				what, UINT32_MAX - 1);
		return false;
	}
	*id = (int64_t)number;
	return true;
}

/**
 * Open the clone device, throwing a helpful error on failure.
 *
 * @param env		N-API environment
 * @return			descriptor, -1 if an exception is pending
 */
static int open_clone_device(napi_env env)
{
	const char *hint = NULL;
	int fd, err;

	fd = open(TUN_CLONE_DEVICE, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0)
	{
		return fd;
	}
	err = errno;
	switch (err)
	{
		case ENOENT:
		case ENODEV:
		case ENXIO:
			hint = "The tun kernel module is not loaded; run 'modprobe tun' "
				   "as root.";
			break;
		case EACCES:
		case EPERM:
			hint = NEEDS_NET_ADMIN;
			break;
	}
	lupina_throw_errno(env, err, "open", hint, "Cannot open %s",
					   TUN_CLONE_DEVICE);
	return -1;
}

/**
 * Attach fd to the TUN interface name with TUNSETIFF.
 *
 * @param env		N-API environment
 * @param fd		descriptor of the clone device
 * @param name		in: requested name or pattern, out: the actual name
 * @param vnet_header	whether packets carry a struct virtio_net_hdr
 * @return			true on success, false if an exception is pending
 */
static bool attach(napi_env env, int fd, char name[IFNAMSIZ],
				   bool vnet_header)
{
	char hint[160];
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0);
	memcpy(ifr.ifr_name, name, IFNAMSIZ);

	if (ioctl(fd, TUNSETIFF, &ifr) == 0)
	{
		memcpy(name, ifr.ifr_name, IFNAMSIZ);
		name[IFNAMSIZ - 1] = '\0';
		return true;
	}
	err = errno;
	switch (err)
	{
		case EPERM:
		case EACCES:
			snprintf(hint, sizeof(hint), "%s A persistent device also "
					 "accepts its owner and group.", NEEDS_NET_ADMIN);
			break;
		case EBUSY:
			snprintf(hint, sizeof(hint), "The name is in use: another "
					 "process has '%s' open. Choose another name.", name);
			break;
		case EINVAL:
			snprintf(hint, sizeof(hint), "Either '%s' is not a valid "
					 "interface name, or an interface that is not a TUN "
					 "device has that name.", name);
			break;
		default:
			hint[0] = '\0';
			break;
	}
	lupina_throw_errno(env, err, "ioctl(TUNSETIFF)", hint[0] ? hint : NULL,
					   "Cannot attach to TUN device '%s'", name);
	return false;
}

/**
 * Run one of the TUNSET* ioctls that take a number.
 *
 * @param env		N-API environment
 * @param fd		attached descriptor
 * @param request	TUNSETOWNER, TUNSETGROUP or TUNSETPERSIST
 * @param syscall	name of the request, for errors
 * @param value		argument
 * @param name		interface name, for errors
 * @return			true on success, false if an exception is pending
 */
static bool set_option(napi_env env, int fd, unsigned long request,
					   const char *syscall, unsigned long value,
					   const char *name)
{
	int err;

	if (ioctl(fd, request, value) == 0)
	{
		return true;
	}
	err = errno;
	lupina_throw_errno(env, err, syscall,
					   err == EPERM ? NEEDS_NET_ADMIN : NULL,
					   "Cannot configure TUN device '%s'", name);
	return false;
}

/**
 * Let the kernel hand over large TCP packets and partial checksums, which
 * tun_offload.c turns back into segments. A kernel that rejects this keeps
 * segmenting itself, so the device works either way.
 *
 * @param fd		descriptor attached with IFF_VNET_HDR
 */
static void enable_offload(int fd)
{
	unsigned int offload = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 |
						   TUN_F_TSO_ECN;

	if (ioctl(fd, TUNSETOFFLOAD, offload) != 0)
	{
		ioctl(fd, TUNSETOFFLOAD, 0);
	}
}

/**
 * Set a string property, ignoring failures.
 */
static void set_name_property(napi_env env, napi_value object,
							  const char *name)
{
	napi_value value;

	if (napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH,
								&value) == napi_ok)
	{
		napi_set_named_property(env, object, "name", value);
	}
}

/*
 * Described in header
 */
napi_value tun_open(napi_env env, napi_callback_info info)
{
	char name[IFNAMSIZ], label[IFNAMSIZ + 16];
	napi_value argv[5], handle;
	int64_t owner, group;
	size_t argc = 5;
	bool persist, offload = false;
	int fd;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 4 ||
		napi_get_value_bool(env, argv[1], &persist) != napi_ok ||
		(argc >= 5 && napi_get_value_bool(env, argv[4], &offload) != napi_ok))
	{
		lupina_throw_type_error(env, "ERR_INVALID_ARG_TYPE",
								"openTun(name, persist, owner, group, offload) "
								"needs a string, a boolean, two numbers and "
								"an optional boolean");
		return NULL;
	}
	if (!get_name(env, argv[0], name) ||
		!get_id(env, argv[2], "owner", &owner) ||
		!get_id(env, argv[3], "group", &group))
	{
		return NULL;
	}

	fd = open_clone_device(env);
	if (fd < 0)
	{
		return NULL;
	}

	/* persistence comes last, so a failure leaves no interface behind */
	if (!attach(env, fd, name, offload) ||
		(owner >= 0 && !set_option(env, fd, TUNSETOWNER, "ioctl(TUNSETOWNER)",
								   (unsigned long)owner, name)) ||
		(group >= 0 && !set_option(env, fd, TUNSETGROUP, "ioctl(TUNSETGROUP)",
								   (unsigned long)group, name)) ||
		(persist && !set_option(env, fd, TUNSETPERSIST,
								"ioctl(TUNSETPERSIST)", 1, name)))
	{
		goto failed;
	}

	if (offload)
	{
		enable_offload(fd);
	}

	snprintf(label, sizeof(label), "TUN device %s", name);
	handle = packet_handle_new(env, PACKET_HANDLE_TUN, AF_UNSPEC, fd, label,
							   offload);
	if (handle)
	{
		set_name_property(env, handle, name);
	}
	return handle;

failed:
	close(fd);
	return NULL;
}

/*
 * Described in header
 */
napi_value tun_delete(napi_env env, napi_callback_info info)
{
	char name[IFNAMSIZ];
	napi_value argv[1];
	size_t argc = 1;
	int fd;

	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok ||
		argc < 1)
	{
		lupina_throw_type_error(env, "ERR_MISSING_ARGS",
								"deleteTun(name) needs an interface name");
		return NULL;
	}
	if (!get_name(env, argv[0], name))
	{
		return NULL;
	}

	/* TUNSETIFF would create a missing interface, so check first */
	if (strchr(name, '%') || if_nametoindex(name) == 0)
	{
		lupina_throw_errno(env, ENODEV, "if_nametoindex",
						   "Check the name with 'ip link show'.",
						   "Cannot delete TUN device '%s'", name);
		return NULL;
	}

	fd = open_clone_device(env);
	if (fd < 0)
	{
		return NULL;
	}
	/* on failure an exception is pending, the result is the same */
	if (attach(env, fd, name, false))
	{
		set_option(env, fd, TUNSETPERSIST, "ioctl(TUNSETPERSIST)", 0, name);
	}
	close(fd);
	return NULL;
}
