#!/bin/sh
exec ceph-lab osd
