#!/bin/sh
# Runs in the guest after /init's insmod (MSI case): unload, then the INTx case.
echo "RIG: rmmod edu_irqleak (MSI case)"
rmmod edu_irqleak; echo "RIG: rmmod rc=$?"
cat /proc/interrupts | grep -i edu
echo "RIG: insmod edu_irqleak intx=1"
insmod /modules/edu_irqleak.ko intx=1; echo "RIG: insmod rc=$?"
cat /proc/interrupts | grep -i edu
echo "RIG: rmmod edu_irqleak (INTx case)"
rmmod edu_irqleak; echo "RIG: rmmod rc=$?"
cat /proc/interrupts | grep -i edu
ls /proc/irq/*/ | head -50
