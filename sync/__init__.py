"""The whole sync cycle, above orders and inventory: one run of a connection's orders, shipments or
inventory (`cycle`), the django-q2 schedules that start them (`schedules`), the sweep that starts
what is due and raises the problems nobody else sees (`sweep`), the alert digests (`alerts`), and
the commands that run them by hand. The tasks stay in `orders.tasks`, whose dotted paths are stored
in the schedules and in queued tasks."""
