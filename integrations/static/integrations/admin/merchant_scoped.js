// Autocompletes marked data-merchant-scoped offer only the rows of the merchant chosen on the same
// page: each of their requests carries that merchant (the server filters on it, and offers nothing
// without one), and choosing another merchant clears what they had chosen.
'use strict';
{
    const $ = django.jQuery;

    function scoped(query) {
        return $('select[data-merchant-scoped]').filter(function() {
            return this.dataset.modelName === query.get('model_name') && this.dataset.fieldName === query.get('field_name');
        }).length > 0;
    }

    $.ajaxPrefilter(function(options) {
        if (typeof options.data !== 'string') {
            return;
        }
        const query = new URLSearchParams(options.data);
        if (scoped(query)) {
            query.set('merchant', $('#id_merchant').val() || '');
            options.data = query.toString();
        }
    });

    $(function() {
        $('#id_merchant').on('change', function() {
            $('select[data-merchant-scoped]').val(null).trigger('change');
        });
    });
}
