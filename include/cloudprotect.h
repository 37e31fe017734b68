/*
 * libcloudprotect - protect cloud workloads: snapshots, portable
 * deduplicated encrypted backups, restore anywhere, policies, cost.
 */
#ifndef CLOUDPROTECT_H
#define CLOUDPROTECT_H

#include "cloudprotect/backup.h"
#include "cloudprotect/common.h"
#include "cloudprotect/cost.h"
#include "cloudprotect/local.h"
#include "cloudprotect/policy.h"
#include "cloudprotect/provider.h"
#include "cloudprotect/repository.h"

#endif
