#!/bin/sh
ceph osd pool application enable xpool rbd
