'use strict';
// An autocomplete list filter (config/admin_filters.py): choosing or clearing a row reloads the
// list with the filter set or removed, from the first page, keeping the other filters.
{
    const $ = django.jQuery;
    $(document).on('change', 'select.ob-filter-autocomplete', function() {
        const params = new URLSearchParams(window.location.search);
        params.delete('p');
        params.delete('e');
        if (this.value) {
            params.set(this.name, this.value);
        } else {
            params.delete(this.name);
        }
        window.location.search = params.toString();
    });
}
