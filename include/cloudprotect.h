/*
 * libcloudprotect - protect cloud workloads: snapshots, portable
 * deduplicated encrypted backups, restore anywhere, policies, cost.
 */
#ifndef CLOUDPROTECT_H
#define CLOUDPROTECT_H

#include "cloudprotect/common.h"
#include "cloudprotect/provider.h"
#include "cloudprotect/repository.h"
#include "cloudprotect/backup.h"
#include "cloudprotect/local.h"

#endif
