/*
 * cat_binlog_event.h - the binlog follower's event handling (SPEC §5):
 * decoding one replication event (ROTATE, GTID, TABLE_MAP, rows, Query,
 * XID ...) into event-group bookkeeping and the marks of the views it
 * changes. Private to the follower: cat_binlog.c (connection, positions,
 * the thread) and cat_binlog_event.c. Only the follower thread touches a
 * struct bl_state.
 */
#ifndef CAT_BINLOG_EVENT_H
#define CAT_BINLOG_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>
#include <mariadb_rpl.h>
#include <uthash.h>

#include "cat_rowimage.h"

/* Longest binlog file name we keep. */
#define BL_FILE_MAX 256

struct cat_snapshot;

/* One entry of the table id -> table map (per event group). */
struct bl_table {
    uint64_t id;                    /* table id of TABLE_MAP / rows events */
    char key[2 * 64 * 4 + 2];       /* "db.table", lower case */
    bool skip;                      /* metadata schema or refresh staging table */
    bool ri_ok;                     /* ri holds the column layout of the table map */
    struct cat_ri_table ri;         /* column types and metadata (row image decoding) */
    char ri_why[200];               /* why ri could not be parsed (when !ri_ok) */
    UT_hash_handle hh;              /* bl_state.tables */
};

/* A binlog position. */
struct bl_pos {
    char file[BL_FILE_MAX];         /* binlog file name, "" = none */
    uint64_t pos;                   /* byte offset in it */
};

/* The follower's own state (only its thread touches it after start). */
struct bl_state {
    MYSQL *side;                    /* side connection: checkpoints, SHOW MASTER STATUS */
    uint32_t master_id;             /* @@server_id of the backend */
    uint32_t server_id;             /* our replica server id */
    struct bl_pos cur;              /* position after the last event read */
    struct bl_pos safe;             /* last event-group boundary: where to resume */
    struct bl_pos saved;            /* last position stored in the metadata schema */
    bool in_group;                  /* inside an event group (after GTID, before its end) */
    bool standalone;                /* the group has no COMMIT/XID (DDL): ends after its query */
    bool group_user;                /* the group touched a table outside the metadata schema */
    bool pos_dirty;                 /* safe moved past a group that touched user tables */
    int64_t last_checkpoint_ms;     /* time of the last checkpoint */
    struct bl_table *tables;        /* table id map */
    struct cat_snapshot *snap;      /* snapshot used for marking (re-acquired on version change) */
};

/*
 * Handle one event EV read by the follower ST: position bookkeeping
 * (st->cur, st->safe at event-group boundaries), then what it changed
 * (the views it marks, through cat_mark_table / cat_mark_writes_opt /
 * cat_part_rows_mark / cat_part_defer, dated by the event). Returns 0, or
 * -1 when the position can no longer be known (a malformed ROTATE; the
 * caller restarts from its safe position).
 */
int cat_binlog_on_event(struct bl_state *st, const MARIADB_RPL_EVENT *ev);

/* Forget ST's table id map (a new event group, or the follower stops). */
void cat_binlog_tables_clear(struct bl_state *st);

#endif /* CAT_BINLOG_EVENT_H */
