/*
 * pjproject build settings for the Callbox image (pjproject 2.15.1).
 *
 * Copied to pjlib/include/pj/config_site.h by build-image.sh before
 * configure. The pjsua2-python wheel allows only 4 calls per process; a box
 * runs one pjsua2 endpoint per engine worker and wants far more, so the
 * limits go up here. Memory on a Pi is the cost: each call slot and player
 * slot reserves a little, which the limits below keep in the low megabytes.
 */
#ifndef CALLBOX_CONFIG_SITE_H
#define CALLBOX_CONFIG_SITE_H

/* Calls and accounts per endpoint. */
#define PJSUA_MAX_CALLS            128
#define PJSUA_MAX_ACC              64

/* Every queue caller hears a prompt or music on hold, and every recorded
 * call holds a recorder: size for a full box, not for a phone. */
#define PJSUA_MAX_PLAYERS          256
#define PJSUA_MAX_RECORDERS        256
#define PJSUA_MAX_CONF_PORTS       (PJSUA_MAX_CALLS + 2 * PJSUA_MAX_PLAYERS)

/* Sockets: SIP transports plus an RTP/RTCP pair per call. select() stops
 * at 1024 descriptors; epoll does not. */
#define PJ_IOQUEUE_MAX_HANDLES     1024
#define PJ_IOQUEUE_IMP             PJ_IOQUEUE_IMP_EPOLL

/* A release build: no assertions or debug checks on the hot path. */
#define PJ_DEBUG                   0
#define PJ_LOG_MAX_LEVEL           4

/* The engine runs without a sound card: media flow through the conference
 * bridge, players, recorders and modem ports only. */
#define PJMEDIA_HAS_VIDEO          0
#define PJMEDIA_AUDIO_DEV_HAS_NULL_AUDIO 1

/* G.722 for desk phones that offer it, G.711 otherwise (docs/capacity.md). */
#define PJMEDIA_HAS_G722_CODEC     1
#define PJMEDIA_HAS_G711_CODEC     1

#endif /* CALLBOX_CONFIG_SITE_H */
